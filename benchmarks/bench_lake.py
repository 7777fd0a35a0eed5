"""The lake against the single file (issue 16, item 6), side by side in one run:

1. ingest: 1, 2 and 4 worker processes each storing their own share of N mentions
   (storage.mentions.upsert_table, batches of 5,000, a store opened per batch as workers do);
2. scoring: 1, 2 and 4 worker processes each scoring their own buckets of the score queue
   (score_pending with a bucket, one analysis process each), S mentions queued;
3. dashboard queries on the N stored mentions: KPIs, daily volume and the latest negative
   mentions for one brand over 90 days, median of 7 runs each.

Throughput is counted from the moment every process has opened its store (a process attaches
the lake once, about 2 s) to the last one done. The lake's catalog is a throw-away PostgreSQL
(tests/postgres.py, Debian's postgresql), its data a local folder. N is $KOUBEI_BENCH_LAKE_N
(default 100,000; 1,000,000 or 10,000,000 when asked), S $KOUBEI_BENCH_LAKE_SCORED (default 4,000).
The file of step 1 is also copied into a lake as `koubei migrate --to ducklake` does, timed. With
$KOUBEI_BENCH_LAKE_STORE (a store built elsewhere, e.g. the shared 10M one) only that is done to
a copy of it, and step 3 is timed on both.
Run: `make bench` or `.venv/bin/python -m benchmarks lake`.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from benchmarks.bench_scale import END, _batch
from koubei.config import parse_settings
from sentiment.corpus import written_corpus
from sentiment.pipeline import score_pending
from storage import DatabaseBusy, Store, WriteConflict, open_store, queries
from storage.db import LakeLocation
from storage.lake_copy import copy_to_lake, file_is_current
from storage.mentions import upsert_table
from storage.work import SCORE_BUCKETS
from tests.postgres import running_postgres

COUNT = int(os.environ.get("KOUBEI_BENCH_LAKE_N", "100000"))
SCORED = int(os.environ.get("KOUBEI_BENCH_LAKE_SCORED", "4000"))
# An existing store to compare on instead (the shared 10M store, /work/notes/STORE10M.md): copied,
# migrated into a lake (timed), and the dashboard's queries timed on both.
STORE = os.environ.get("KOUBEI_BENCH_LAKE_STORE")
BATCH = 5_000
WORKERS = (1, 2, 4)
Where = Path | LakeLocation


def _ingest(where: Where, first: int, count: int, gate: Barrier, times: Any) -> None:
    corpus, _ = written_corpus()
    batches = [_batch(start, min(BATCH, first + count - start), corpus) for start in range(first, first + count, BATCH)]
    with open_store(where):
        pass
    gate.wait()
    started = time.time()
    busy = 0
    for batch in batches:
        while True:
            try:
                with open_store(where) as store:
                    upsert_table(store, batch)
                break
            except DatabaseBusy:  # the file held by the others past the lock timeout: the batch again
                busy += 1
    times.append((started, time.time(), busy))


def _score(where: Where, buckets: list[int], gate: Barrier, times: Any) -> None:
    settings = parse_settings({}, db=where if isinstance(where, Path) else None)

    def opener() -> Store:
        return open_store(where)

    with opener():
        pass
    gate.wait()
    started = time.time()
    for k in buckets:
        while True:
            try:
                score_pending(opener, settings, bucket=(k, SCORE_BUCKETS), workers=1)
                break
            except WriteConflict:  # another worker's commit got in the way: the bucket is still queued
                continue
    times.append((started, time.time(), 0))


def _run(count: int, job: Callable[..., None], shares: list[tuple[Any, ...]]) -> float:
    """Rows per second of `job` run once per share, each in its own process."""
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager:
        times = manager.list()
        gate = spawn.Barrier(len(shares))
        processes = [spawn.Process(target=job, args=(*share, gate, times)) for share in shares]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
            if process.exitcode:
                raise RuntimeError(f"a benchmark process failed ({process.exitcode})")
        spans = list(times)
    busy = sum(span[2] for span in spans)
    if busy:
        print(f"  {busy} batches waited past the lock timeout (30 s) and were stored again", flush=True)
    return count / (max(span[1] for span in spans) - min(span[0] for span in spans))


def _query_medians(where: Where) -> dict[str, float]:
    with open_store(where, read_only=True) as store:
        options = queries.filter_options(store)
    end = options["last"] or END
    window = queries.MentionFilter(start=end - timedelta(days=90), end=end, brands=tuple(options["brands"][:1]))
    steps: dict[str, Callable[[Store], object]] = {
        "kpis": lambda s: queries.kpis(s, window),
        "daily volume": lambda s: queries.volume_series(s, window, timedelta(days=1)),
        "latest negative": lambda s: queries.latest_negative(s, window),
    }
    medians = {}
    with open_store(where, read_only=True) as store:
        for name, step in steps.items():
            step(store)  # warm
            runs = []
            for _ in range(7):
                started = time.perf_counter()
                step(store)
                runs.append(time.perf_counter() - started)
            medians[name] = statistics.median(runs) * 1000
    return medians


def _fresh(kind: str, tmp: Path, pg: Any, label: str) -> Where:
    if kind == "file":
        return tmp / f"{label}.duckdb"
    return LakeLocation(pg.create_database(label), str(tmp / f"{label}-data") + "/")


def _folder_bytes(folder: str) -> int:
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def _catalog_bytes(lake: LakeLocation) -> int:
    import psycopg

    with psycopg.connect(lake.catalog_dsn) as con:
        row = con.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


def _migrated(file: Path, lake: LakeLocation) -> None:
    """`koubei migrate --to ducklake`'s copy of `file` into `lake`, timed, and what each side spends on disk."""
    started = time.perf_counter()
    copied = copy_to_lake(file, lake)
    seconds = time.perf_counter() - started
    mentions = next(c.rows for c in copied if c.table == "mentions")
    checked = sum(c.check_seconds for c in copied)
    catalog = _catalog_bytes(lake)
    print(
        f"migrate --to ducklake of {mentions:,} mentions ({sum(c.rows for c in copied):,} rows in {len(copied)} tables):"
        f" {seconds:.1f} s, {mentions / seconds:,.0f} mentions/s, of which {checked:.1f} s hashing both sides"
        f" (mentions {next(c.check_seconds for c in copied if c.table == 'mentions'):.1f} s);"
        f" file {file.stat().st_size / 1e9:.2f} GB, lake {_folder_bytes(lake.data_path) / 1e9:.2f} GB Parquet"
        f" + {catalog / 1e6:.0f} MB catalog (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


def _compare_store(store_file: Path, tmp: Path, pg: Any) -> None:
    """An existing store (the shared 10M one): migrated into a lake (read only when it is at the
    current migration level, copied first otherwise), and the dashboard's queries timed on both."""
    file = store_file
    if not file_is_current(store_file):
        file = tmp / "store.duckdb"
        shutil.copy(store_file, file)
    lake = LakeLocation(pg.create_database("store_lake"), str(tmp / "store-lake") + "/")
    _migrated(file, lake)
    for kind, where in (("file", file), ("lake", lake)):
        medians = _query_medians(where)
        print(
            f"queries {kind} at {store_file.name}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in medians.items()),
            f"(load {os.getloadavg()[0]:.1f})",
            flush=True,
        )


def main() -> None:
    print(f"N = {COUNT:,} mentions, S = {SCORED:,} scored, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder, running_postgres() as pg:
        tmp = Path(folder)
        if STORE:
            _compare_store(Path(STORE), tmp, pg)
            return
        for kind in ("file", "lake"):
            for n in WORKERS:
                where = _fresh(kind, tmp, pg, f"ingest_{kind}_{n}")
                share = COUNT // n
                rate = _run(share * n, _ingest, [(where, i * share, share) for i in range(n)])
                print(
                    f"ingest {kind}, {n} worker(s): {rate:,.0f} mentions/s (load {os.getloadavg()[0]:.1f})", flush=True
                )
                if n == 1:
                    medians = _query_medians(where)
                    print(f"queries {kind} at {COUNT:,}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in medians.items()))
                if n == 1 and isinstance(where, Path):
                    _migrated(where, LakeLocation(pg.create_database("migrated"), str(tmp / "migrated") + "/"))
            for n in WORKERS:
                where = _fresh(kind, tmp, pg, f"score_{kind}_{n}")
                _run(SCORED, _ingest, [(where, 0, SCORED)])
                buckets = [[k for k in range(SCORE_BUCKETS) if k % n == i] for i in range(n)]
                rate = _run(SCORED, _score, [(where, b) for b in buckets])
                print(
                    f"scoring {kind}, {n} worker(s): {rate:,.0f} mentions/s (load {os.getloadavg()[0]:.1f})", flush=True
                )
    print(f"load {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
