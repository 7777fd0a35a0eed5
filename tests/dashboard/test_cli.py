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
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4] == str(APP)
    flags = dict(zip(command[5::2], command[6::2]))
    assert flags["--server.headless"] == "true"
    assert flags["--server.port"] == "8600"
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert APP.name == "streamlit_app.py" and APP.exists()
