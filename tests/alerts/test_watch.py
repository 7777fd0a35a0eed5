"""The watch loop: each source on its interval, heartbeat in source health, graceful SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from koubei.context import AppContext
from koubei.pipeline import PassSummary
from koubei.watch import watch
from storage import open_store
from storage.health import source_health

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "koubei.toml"
    path.write_text(
        '[sources.fast]\nkind = "demo"\ninterval = "1s"\n\n[sources.slow]\nkind = "demo"\ninterval = "1h"\n'
    )
    return path


def test_each_source_runs_on_its_interval_and_heartbeats(tmp_path: Path) -> None:
    ctx = AppContext(config_path=_config(tmp_path), db=tmp_path / "w.duckdb")
    calls: list[list[str]] = []

    def run_pass(c: AppContext, sources: list[str]) -> PassSummary:
        calls.append(sources)
        return PassSummary()

    state = watch(
        ctx,
        run_pass=run_pass,
        max_passes=3,
        log=lambda line: None,
        install_signals=False,
    )
    assert state.passes == 3
    assert calls[0] == ["fast", "slow"]  # everything is due at start
    assert calls[1:] == [["fast"], ["fast"]]  # then only the 1-second source
    with open_store(tmp_path / "w.duckdb") as store:
        beat = [r for r in source_health(store) if r.source == "koubei-watch"]
    assert beat and beat[0].status == "ok" and beat[0].last_run_at is not None


def test_a_failing_pass_does_not_end_the_watch(tmp_path: Path) -> None:
    ctx = AppContext(config_path=_config(tmp_path), db=tmp_path / "w.duckdb")

    def boom(c: AppContext, sources: list[str]) -> PassSummary:
        raise RuntimeError("collector exploded")

    state = watch(ctx, run_pass=boom, max_passes=2, log=lambda line: None, install_signals=False)
    assert state.passes == 2 and len(state.errors) == 2 and "collector exploded" in state.errors[0]


SCRIPT = """
import sys, time
from pathlib import Path
from koubei.context import AppContext
from koubei.pipeline import PassSummary
from koubei.watch import watch

def slow_pass(ctx, sources):
    print("pass-start", flush=True)
    time.sleep(1.0)  # a pass in progress when SIGTERM arrives must finish
    print("pass-end", flush=True)
    return PassSummary()

ctx = AppContext(config_path=Path(sys.argv[1]), db=Path(sys.argv[2]))
state = watch(ctx, run_pass=slow_pass, log=lambda line: print(line, flush=True))
print("exited passes=%d" % state.passes, flush=True)
"""


def test_sigterm_stops_gracefully_after_the_current_pass(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(_config(tmp_path)), str(tmp_path / "w.duckdb")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    line = ""
    while time.monotonic() < deadline and "pass-start" not in line:
        line = proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)  # mid-pass
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "pass-end" in out and "stopping after the current step" in out
    assert "exited passes=1" in out
