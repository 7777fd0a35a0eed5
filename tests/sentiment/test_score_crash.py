"""kill -9 of a real `koubei score` while it scores or marks duplicates, then a rerun: the
duplicate groups and excluded copies equal an uninterrupted run's (issue 17, item 5)."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from collectors.options import parse_source
from collectors.runner import run_collector
from collectors.sources.demo import DemoCollector
from storage import open_store
from tests.conftest import built_once
from tests.processes import finish, koubei, query, scoring_progress, wait_until
from tests.sentiment.test_backlog import stored

DEMO = {"days": 5, "seed": 7, "end": "2026-11-23T12:00:00+00:00"}
CONFIG = "[sentiment]\nduplicate_window_days = 0\n"
GROUPS = (
    "SELECT source, native_id, duplicate_group, duplicate_count, excluded FROM mention_flags"
    " WHERE duplicate_group IS NOT NULL ORDER BY 1, 2"
)
TRIALS = 3  # a kill that lands after the stage it aims at is no trial: tried again


def collect_and_score(folder: Path) -> None:
    """collected.duckdb: the demo's mentions, none scored; reference.duckdb: the same, scored by one
    `koubei score` that was not killed, and what it stored (reference.pickle: its duplicate groups
    and tests/sentiment/test_backlog.py's stored()); and the config both were made with."""
    db = folder / "collected.duckdb"
    result = run_collector(DemoCollector(parse_source("demo", DEMO)), lambda: open_store(db))
    assert result.ok, result.error
    (folder / "koubei.toml").write_text(CONFIG)
    reference = folder / "reference.duckdb"
    shutil.copy(db, reference)
    finish(koubei(folder / "koubei.toml", reference, "score"))
    # read here, by the one worker that built it (stored() opens the file for writing)
    (folder / "reference.pickle").write_bytes(pickle.dumps((query(reference, GROUPS), stored(reference))))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Built once per test run (tests/conftest.py built_once): the two stages' tests ran on both
    xdist workers, each collecting and scoring the demo again (14 s of setup each at load 7).
    Only read afterwards: each test kills and reruns its own copy."""
    return built_once(tmp_path_factory, worker_id, "score-crash", collect_and_score)


@pytest.fixture(scope="module")
def collected(built: Path) -> tuple[Path, Path]:
    """(config, database of demo mentions, none scored)."""
    return built / "koubei.toml", built / "collected.duckdb"


@pytest.fixture(scope="module")
def uninterrupted(built: Path) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """The duplicate groups and everything else stored (tests/sentiment/test_backlog.py's) of a
    run that was not killed."""
    groups, reference = pickle.loads((built / "reference.pickle").read_bytes())
    assert sum(1 for row in groups if row[4]) > 10  # the demo's templates: enough to lose
    return groups, reference


def _in_stage(stage: str, db: Path) -> bool:
    mentions, scored, grouped = scoring_progress(db)
    if stage == "scoring":
        return 0 < scored < mentions
    return scored == mentions and grouped == 0  # every batch stored, no group written yet


def _kill_during(stage: str, config: Path, db: Path) -> bool:
    """Start `koubei score`, kill -9 it once it is in `stage`; whether the kill landed there."""
    proc = koubei(config, db, "score", "--batch-size", "400")
    wait_until(lambda: _in_stage(stage, db) or proc.poll() is not None, 120, f"koubei score {stage}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.returncode == -signal.SIGKILL and _in_stage(stage, db)


@pytest.mark.parametrize("stage", ["scoring", "marking"])
def test_kill_9_during_score_then_rerun_keeps_every_exclusion(
    stage: str,
    collected: tuple[Path, Path],
    uninterrupted: tuple[list[tuple[Any, ...]], dict[str, Any]],
    tmp_path: Path,
) -> None:
    """Bug: killed while marking duplicates (after its last batch), `koubei score` reran as
    "scored 0 mentions" and never marked them: 0 groups, 0 excluded copies, paid reviews counted.
    And a kill while a batch is written and the next analysed loses nothing and a rerun
    duplicates nothing: scores, aspects, triage, flags and rollups equal an uninterrupted run's."""
    groups, reference = uninterrupted
    config, db = collected
    victim = tmp_path / "victim.duckdb"
    for _ in range(TRIALS):
        shutil.copy(db, victim)
        if _kill_during(stage, config, victim):
            break
    else:
        pytest.fail(f"no kill landed while {stage} in {TRIALS} trials")
    out = finish(koubei(config, victim, "score"))
    assert query(victim, GROUPS) == groups, out
    excluded = sum(1 for row in groups if row[4])
    assert f"{excluded} template copies excluded" in out
    assert stored(victim) == reference
