"""The watch loop: each source on its interval, heartbeat in source health, graceful SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.options import parse_source
from collectors.runner import run_collector
from collectors.sources.demo import DemoCollector
from koubei.context import AppContext
from koubei.pipeline import PassSummary
from koubei.watch import watch
from storage import open_store
from storage.health import source_health
from tests.processes import finish, koubei, scoring_progress, wait_until

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


def test_a_stop_during_a_pass_skips_the_scheduled_reports(tmp_path: Path) -> None:
    """Bug: stopped during a pass, the watch still built and queued a report that fell due (a
    PDF: seconds more before it exited). Once stopped, nothing new starts."""
    config = _config(tmp_path)
    reports = tmp_path / "reports"
    config.write_text(
        config.read_text()
        + '\n[alerts.channels.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:9/hook"\n'
        + '\n[[reports]]\nname = "weekly"\nschedule = "every day 00:00 UTC"\nformat = "html"\nchannels = ["hook"]\n'
        + f'output_dir = "{reports}"\n'
    )
    ctx = AppContext(config_path=config, db=tmp_path / "w.duckdb")
    lines: list[str] = []

    def stopped_pass(c: AppContext, sources: list[str]) -> PassSummary:
        c.stop.set()  # SIGTERM during the pass
        return PassSummary()

    state = watch(ctx, run_pass=stopped_pass, log=lines.append, install_signals=False)
    assert state.passes == 1 and state.errors == []
    assert not reports.exists() and not any(line.startswith("reports:") for line in lines), lines


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
    assert "pass-end" in out and "stopping at the next safe point" in out
    assert "exited passes=1" in out


BACKLOG = {"days": 28, "seed": 7, "end": "2026-11-23T12:00:00+00:00"}
STOP_WITHIN = 5.0  # seconds from SIGTERM to exit
SCORE_BATCH = 2000  # [sentiment] score_batch in the test's config: a backlog of several batches


def _scoring(db: Path) -> bool:
    mentions, scored, _ = scoring_progress(db)
    return 0 < scored < mentions - 2 * SCORE_BATCH  # a backlog still ahead


def _marking(db: Path) -> bool:
    mentions, scored, grouped = scoring_progress(db)
    return scored == mentions and grouped == 0


@pytest.mark.parametrize("stage", ["scoring", "marking"])
def test_sigterm_stops_a_watch_within_seconds_with_whole_batches(stage: str, tmp_path: Path) -> None:
    """Bug: `koubei watch` took 84 s to honour SIGTERM while it scored a backlog: a pass was
    only ever stopped between steps. It now stops at the next scoring chunk (or inside
    duplicate marking), dropping the unfinished batch, and exits in a few seconds."""
    db = tmp_path / "w.duckdb"
    result = run_collector(DemoCollector(parse_source("demo", BACKLOG)), lambda: open_store(db))
    assert result.ok, result.error
    config = tmp_path / "koubei.toml"
    config.write_text(
        f'[sentiment]\nduplicate_window_days = 0\nscore_batch = {SCORE_BATCH}\n\n[sources.demo]\ninterval = "1h"\n'
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in BACKLOG.items())
    )
    proc = koubei(config, db, "watch")
    wait_until(lambda: (_scoring if stage == "scoring" else _marking)(db) or proc.poll() is not None, 120, stage)
    assert proc.poll() is None, proc.communicate()
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out = finish(proc, timeout=120)
    took = time.monotonic() - signalled
    mentions, scored, grouped = scoring_progress(db)
    assert took < STOP_WITHIN, f"stopped {took:.1f}s after SIGTERM"
    if stage == "scoring":
        assert scored % SCORE_BATCH == 0 and scored < mentions, scored  # whole batches, the rest left
    assert grouped == 0  # marking given up whole: still owed, done by the next start
    assert "1 passes" in out
