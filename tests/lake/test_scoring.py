"""Scoring batches of several workers committed at the same moment on one lake (issue 16:
scoring throughput that grows with workers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from multiprocessing.context import SpawnContext
from multiprocessing.synchronize import Barrier
from typing import Any

from koubei.config import parse_settings
from koubei.records import Mention
from sentiment.analysis import analyse_rows
from sentiment.aspects import tagger_from_settings
from sentiment.model import scorer_from_settings
from sentiment.pipeline import score_rows
from storage import WriteConflict, open_store, upsert_mentions
from storage.db import LakeLocation
from storage.queue import pending_mentions
from storage.sentiment import marking_owed, write_scores
from tests.lake.conftest import run_to_the_end

WORKERS = 2
ROUNDS = 2  # batches per worker, each written at the same moment as the other worker's
BATCH = 3
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _store_mentions(lake: LakeLocation, count: int) -> None:
    texts = ("物流很快，包装完好", "质量太差，客服不理人", "还行吧，一般般")
    mentions = [
        Mention(source="test", native_id=f"m{i:03d}", text=texts[i % 3], published_at=T0 + timedelta(minutes=i))
        for i in range(count)
    ]
    with open_store(lake) as store:
        upsert_mentions(store, mentions)


def _score_bucket(lake: LakeLocation, bucket: int, gate: Barrier, outcomes: Any) -> None:
    """One worker: its bucket of the queue, written a batch at a time, each write starting
    together with the other worker's."""
    settings = parse_settings({}, db=None)
    scorer, tagger = scorer_from_settings(settings), tagger_from_settings(settings)
    with open_store(lake) as store:
        pending, _ = pending_mentions(store, 1000, bucket=(bucket, WORKERS))
        for start in range(0, BATCH * ROUNDS, BATCH):
            batch = pending[start : start + BATCH]
            rows = score_rows(batch, analyse_rows(scorer, tagger, batch), scorer.name, scorer.version)
            gate.wait(timeout=60)
            try:
                write_scores(store, *rows, scored=batch)
                outcomes.append(("written", len(batch)))
            except WriteConflict as exc:
                outcomes.append(("conflict", str(exc)))


def test_scoring_batches_written_at_once_by_two_workers_all_commit(lake: LakeLocation, spawn: SpawnContext) -> None:
    """Bug: on the lake every scoring batch of one worker was rolled back (WriteConflict) when
    another worker's batch committed while it was being written: each added one to
    duplicate_watermark's single row, and both dequeued from the same queue file. Scoring got
    slower with each worker added."""
    _store_mentions(lake, WORKERS * ROUNDS * BATCH * 2)  # the hash buckets are uneven: enough for each
    with spawn.Manager() as manager:
        outcomes = manager.list()
        gate = spawn.Barrier(WORKERS)
        workers = [spawn.Process(target=_score_bucket, args=(lake, k, gate, outcomes)) for k in range(WORKERS)]
        run_to_the_end(workers, timeout=300)
        written = list(outcomes)
    assert [kind for kind, _ in written] == ["written"] * (WORKERS * ROUNDS), written
    with open_store(lake, read_only=True) as store:
        scored = store.query("SELECT count(*), count(DISTINCT (source, native_id)) FROM sentiment")[0]
        owed = marking_owed(store)
    assert scored == (WORKERS * ROUNDS * BATCH,) * 2, "every batch stored once"
    assert owed == WORKERS * ROUNDS, "each batch still counts towards the duplicate marking owed"
