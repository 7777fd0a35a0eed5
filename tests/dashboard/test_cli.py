"""`koubei dashboard`: its options, and the streamlit command it runs.
(Serving for real is covered by test_e2e.py, which starts it.)"""

from __future__ import annotations

from typer.testing import CliRunner

from koubei.cli import app
from koubei.commands.dashboard import APP, streamlit_command


def test_dashboard_help_lists_port_and_address() -> None:
    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0, result.output
    assert "--port" in result.output and "--address" in result.output


def test_streamlit_command_is_headless_on_the_given_address() -> None:
    command = streamlit_command(8600, "127.0.0.1")
    assert command[1:4] == ["-m", "dashboard.serve", "run"] and command[4] == str(APP)
    flags = dict(zip(command[5::2], command[6::2]))
    assert flags["--server.headless"] == "true"
    assert flags["--server.port"] == "8600"
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert APP.name == "streamlit_app.py" and APP.exists()


def test_the_server_starts_loading_jieba_before_any_session() -> None:
    """The topics page's first visit in a new server waited for jieba's dictionary (issue 13): the
    launcher `koubei dashboard` runs starts loading it with the server, then hands over to Streamlit."""
    import subprocess
    import sys

    code = (
        "import runpy, streamlit.web.cli as cli\n"
        "def served(prog_name):\n"
        "    import jieba\n"
        "    from sentiment import segmenter\n"
        "    started = segmenter.JIEBA_WARM_UP in segmenter._background\n"  # by the launcher, before Streamlit's main
        "    segmenter.warm_in_background().join(120)\n"
        "    print(started, jieba.dt.initialized, prog_name)\n"
        "cli.main = served\n"
        "runpy.run_module('dashboard.serve', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "streamlit"]
    version = subprocess.run([sys.executable, "-m", "dashboard.serve", "version"], capture_output=True, text=True)
    assert version.returncode == 0 and "Streamlit" in version.stdout, version.stderr
