"""`koubei worker` (koubei/commands/worker.py) on both backends: collects each source, scores
everything it stored, and on a lake fetches a source once per interval (on the single file every
claim is granted: one worker does everything)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from storage import open_store
from storage.db import LakeLocation
from tests.lake.conftest import KOUBEI, koubei_env, lake_config


def _koubei(tmp_path: Path, where: Path | LakeLocation, *command: str) -> subprocess.CompletedProcess[str]:
    if isinstance(where, LakeLocation):
        config, args, env = lake_config(tmp_path, where), [], koubei_env(where)
    else:
        config = tmp_path / "koubei.toml"
        config.write_text('[sources.demo]\ndays = 1\nrate = 3\nseed = 7\ninterval = "1h"\n', encoding="utf-8")
        args, env = ["--db", str(where)], None
    return subprocess.run(
        [KOUBEI, "--config", str(config), *args, *command], capture_output=True, text=True, timeout=300, env=env
    )


def _run_worker(tmp_path: Path, where: Path | LakeLocation) -> subprocess.CompletedProcess[str]:
    return _koubei(tmp_path, where, "worker", "--once")


def test_a_worker_collects_and_scores_everything_and_claims_a_source_per_interval_on_the_lake(
    tmp_path: Path, any_db: Path | LakeLocation
) -> None:
    first = _run_worker(tmp_path, any_db)
    assert first.returncode == 0, first.stderr
    assert "collected demo" in first.stdout
    again = _run_worker(tmp_path, any_db)
    assert again.returncode == 0, again.stderr
    on_lake = isinstance(any_db, LakeLocation)
    # The lake's lease on the demo source holds for its interval (1h); the file grants every claim.
    assert ("collected nothing" if on_lake else "collected demo") in again.stdout
    with open_store(any_db, read_only=True) as store:
        mentions = store.query("SELECT count(*), count(DISTINCT (source, native_id)) FROM mentions")[0]
        scored = store.query("SELECT count(*) FROM sentiment")[0][0]
        queued = store.query("SELECT count(*) FROM score_queue")[0][0]
        runs = store.query("SELECT count(*) FROM collect_runs WHERE source = 'demo'")[0][0]
    assert mentions[0] > 0 and mentions[0] == mentions[1]
    assert (scored, queued, runs) == (mentions[0], 0, 1 if on_lake else 2)
    # `koubei sources` reads each source's health from the same database (on a lake it read the
    # single file's default path, found none, and showed every source as never run).
    listed = _koubei(tmp_path, any_db, "sources")
    assert listed.returncode == 0, listed.stderr
    (demo,) = [line for line in listed.stdout.splitlines() if line.startswith("│ demo")]
    assert "ok" in demo and "never run" not in demo
