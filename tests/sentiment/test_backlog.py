"""A backlog `koubei score` in large write batches, with the workers analysing the next batch
while the last one is written (issue 18, part 1): it stores what small serial batches store,
scores, aspects, triage, flags and rollups alike, and the rollups equal a full rebuild."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

from koubei.config import parse_settings
from sentiment.pipeline import score_pending
from storage import open_store, queue, rollups, upsert_mentions
from tests.sentiment.test_pipeline import mention
from tests.sentiment.test_score_queue import _results, demo_db, opener  # noqa: F401 - demo_db is a fixture

WAYS = {"small serial batches": (150, 1), "pipelined batches": (400, 2), "one large batch": (20_000, 2)}


def stored(db_path: Path) -> dict[str, Any]:
    """Everything scoring stores, from a database with nothing left to score."""
    with open_store(db_path) as store:
        assert queue.count_pending(store) == 0
        kept = (*rollups.snapshot(store), rollups.day_snapshot(store))
    return {**_results(db_path), "rollups": kept}


def _score_twice(db_path: Path, batch_size: int, workers: int) -> dict[str, Any]:
    """Score the backlog, then again after a few mentions changed (rescores replace rows)."""
    settings = parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_path)
    first = score_pending(opener(db_path), settings, batch_size=batch_size, workers=workers)
    assert first.scored > 1000 and not first.stopped
    with open_store(db_path) as store:
        keys = store.query(
            "SELECT source, native_id, published_at, brand FROM mentions ORDER BY source, native_id LIMIT 40"
        )
        complaint = mention(0, "质量很差，发烫冒烟，客服不理人，我要投诉到12315")
        changed = [
            replace(complaint, source=s, native_id=n, published_at=p.replace(tzinfo=UTC), brand=b)
            for s, n, p, b in keys
        ]
        upsert_mentions(store, changed)
    again = score_pending(opener(db_path), settings, batch_size=batch_size, workers=workers)
    assert again.scored == 40
    return stored(db_path)


def test_large_pipelined_batches_store_what_small_serial_batches_store(demo_db: Path, tmp_path: Path) -> None:  # noqa: F811
    outcome = {}
    for way, (batch_size, workers) in WAYS.items():
        copy = tmp_path / f"{batch_size}-{workers}.duckdb"
        shutil.copy(demo_db, copy)
        outcome[way] = _score_twice(copy, batch_size, workers)
    reference = outcome.pop("small serial batches")
    assert reference["triage"] and reference["mention_aspects"] and reference["rollups"][1]
    assert any(row[6] for row in reference["mention_flags"]), "the demo's copies are excluded"
    for way, stored in outcome.items():
        for table in reference:
            assert stored[table] == reference[table], f"{way}: {table}"
    with open_store(tmp_path / "20000-2.duckdb") as store:  # and the increments equal a rebuild
        rollups.rebuild(store)
        assert (*rollups.snapshot(store), rollups.day_snapshot(store)) == reference["rollups"]
