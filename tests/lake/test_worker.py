"""`koubei worker` on a lake (koubei/commands/worker.py): collects each source once per
interval and scores everything it stored."""

from __future__ import annotations

from pathlib import Path

from storage import open_store
from storage.db import LakeLocation
from tests.lake.conftest import run_koubei


def test_a_worker_collects_and_scores_into_the_lake_and_fetches_a_source_once_per_interval(
    lake_toml: Path, lake: LakeLocation
) -> None:
    first = run_koubei(lake_toml, lake, "worker", "--once")
    assert first.returncode == 0, first.stderr
    assert "collected demo" in first.stdout
    again = run_koubei(lake_toml, lake, "worker", "--once")
    assert again.returncode == 0, again.stderr
    assert "collected nothing" in again.stdout, "the demo source's lease holds for its interval (1h)"
    with open_store(lake, read_only=True) as store:
        mentions = store.query("SELECT count(*), count(DISTINCT (source, native_id)) FROM mentions")[0]
        scored = store.query("SELECT count(*) FROM sentiment")[0][0]
        queued = store.query("SELECT count(*) FROM score_queue")[0][0]
        runs = store.query("SELECT count(*) FROM collect_runs WHERE source = 'demo'")[0][0]
    assert mentions[0] > 0 and mentions[0] == mentions[1]
    assert (scored, queued, runs) == (mentions[0], 0, 1)
