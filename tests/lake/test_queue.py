"""Workers dequeuing from the lake's score queue at the same moment (issue 16)."""

from __future__ import annotations

import time
from multiprocessing.context import SpawnContext
from multiprocessing.synchronize import Barrier
from typing import Any

from storage import Store, WriteConflict, open_store
from storage.db import LakeLocation
from storage.queue import count_pending, dequeue, done_table, queue_for_scoring
from tests.lake.conftest import run_to_the_end

QUEUED = 40  # queued in one transaction: one Parquet file, as from a collector's page
BATCH = 10  # a scoring batch: the largest delete DuckLake kept in its catalog by default


def _keys(first: int, last: int) -> list[tuple[str, str, str]]:
    return [("demo", f"m{i:03d}", f"h{i}") for i in range(first, last + 1)]


def _counted_and_scanned(store: Store) -> tuple[int, int]:
    scanned = store.query("SELECT count(native_id) FROM (SELECT native_id FROM score_queue ORDER BY native_id)")
    return count_pending(store), int(scanned[0][0])


def test_two_workers_dequeuing_one_key_at_once_keep_the_queue_count_right(lake: LakeLocation) -> None:
    """Bug: "INT128 value -120 can't be cast to UINT64" from count(*) over score_queue while
    workers dequeued (tests/lake/test_concurrency.py, under load). Two workers dequeue one key
    at once when a worker's lease runs out while it still scores and another takes its bucket
    over. DuckLake kept a dequeue of up to 10 rows in its catalog and a larger one in a delete
    file, and let both commit (duckdb/ducklake#1215). From then on the queue's file ignored
    deletes in scans: workers found its keys again, scored and dequeued them again, and each
    dequeue took them off count(*) again, until it went below zero."""
    with open_store(lake) as store, store.transaction():
        queue_for_scoring(store, _keys(0, QUEUED - 1), rescore=False)
    rolled_back = False
    with open_store(lake) as taken_over, open_store(lake) as late:
        try:
            with late.transaction():
                dequeue(late, done_table(_keys(10, 29)))  # its batch, scored after its lease ran out
                with taken_over.transaction():
                    dequeue(taken_over, done_table(_keys(10, 10)))  # the same key, by the new holder
        except WriteConflict:
            rolled_back = True  # write_scores writes the batch again
    with open_store(lake) as store:
        assert _counted_and_scanned(store) == (QUEUED - 1, QUEUED - 1)
        for left in range(QUEUED - 1 - BATCH, -BATCH, -BATCH):  # one worker drains what it sees
            seen = store.query(f"SELECT source, native_id, content_hash FROM score_queue LIMIT {BATCH}")
            with store.transaction():
                dequeue(store, done_table(seen))
            assert _counted_and_scanned(store) == (max(left, 0),) * 2
    assert rolled_back, "the later of two dequeues of one key is a WriteConflict"


WORKERS = 3
LINE_UP = 1.5  # seconds a worker waits, its dequeue done, for the others to reach their commits


def _dequeue_share(lake: LakeLocation, k: int, start: Barrier, arrived: Any, outcomes: Any) -> None:
    """One worker: its share of the queue (key number modulo WORKERS), dequeued in one
    transaction whose commit waits (at most LINE_UP) until every worker has dequeued."""
    with open_store(lake) as store:
        share = [
            row for row in store.query("SELECT * FROM score_queue ORDER BY native_id") if int(row[1][1:]) % WORKERS == k
        ]
        start.wait(timeout=60)
        try:
            with store.transaction():
                dequeue(store, done_table([row[:3] for row in share]))
                with arrived.get_lock():
                    arrived.value += 1
                deadline = time.monotonic() + LINE_UP
                while arrived.value < WORKERS and time.monotonic() < deadline:
                    time.sleep(0.01)
            outcomes.append(k)
        except WriteConflict:
            pass  # its share stays queued


def test_workers_committing_dequeues_from_one_file_at_once_keep_the_queue_count_right(
    lake: LakeLocation, spawn: SpawnContext
) -> None:
    """Bug: "INT128 value -120 can't be cast to UINT64" from count(*) over score_queue while
    workers dequeued, with the inlining above turned off too. Workers whose commits of
    dequeues from one queue file, which had a delete file already, met in time all committed,
    each writing its own delete file: count(*) subtracted them all (below zero) and scans
    brought dequeued keys back. Lake writers now take turns (storage.db._WriteTurn)."""
    with open_store(lake) as store:
        with store.transaction():
            queue_for_scoring(store, _keys(0, 3 * QUEUED - 1), rescore=False)
        with store.transaction():
            dequeue(store, done_table(_keys(0, BATCH - 1)))  # the file has a delete file
    with spawn.Manager() as manager:
        outcomes = manager.list()
        start, arrived = spawn.Barrier(WORKERS), spawn.Value("i", 0)
        workers = [
            spawn.Process(target=_dequeue_share, args=(lake, k, start, arrived, outcomes)) for k in range(WORKERS)
        ]
        run_to_the_end(workers, timeout=120)
        committed = set(outcomes)
    with open_store(lake, read_only=True) as store:
        counted, scanned = _counted_and_scanned(store)
    left = sum(i % WORKERS not in committed for i in range(BATCH, 3 * QUEUED))
    assert (counted, scanned) == (left, left), f"workers {sorted(committed)} of {WORKERS} committed"
