"""The dashboard keeps reading while a collector writes: two real processes.

DuckDB lets no second process open a file held open for writing, so koubei
uses short-lived connections with lock retries (storage/db.py). One process
upserts batches of mentions in a loop, each in its own read-write connection;
the other runs the dashboard's own loader (dashboard.data.load_overview, one
read-only connection per refresh) in a loop. Neither may see an error, and the
reader must see the count grow.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime, timedelta
from multiprocessing.context import SpawnContext
from pathlib import Path
from typing import Any

import pytest

from koubei.records import Mention
from storage import DatabaseBusy, count_mentions, open_store, upsert_mentions
from storage.queries import MentionFilter

DURATION = 4.0
BATCH = 200
START = datetime(2026, 11, 1, tzinfo=UTC)


def _batch(number: int) -> list[Mention]:
    return [
        Mention(
            source="demo.weibo",
            native_id=f"{number}-{i}",
            text=f"声浪X1耳机 第{number}批 第{i}条",
            published_at=START + timedelta(minutes=number * BATCH + i),
            brand="声浪",
            product="声浪X1耳机",
            url=f"https://example.com/{number}/{i}",
        )
        for i in range(BATCH)
    ]


def writer(db: str, out: str, duration: float, start: Any) -> None:
    errors: list[str] = []
    start.wait(timeout=120)  # both processes have imported what they need: go together
    deadline = time.monotonic() + duration
    number = 1
    while time.monotonic() < deadline:
        try:
            with open_store(db) as store:
                upsert_mentions(store, _batch(number))
            number += 1
        except Exception:  # noqa: BLE001 - any failure is what this test counts
            errors.append(traceback.format_exc())
        time.sleep(0.02)
    Path(out).write_text(json.dumps({"batches": number - 1, "errors": errors}))


def reader(db: str, out: str, duration: float, start: Any) -> None:
    # The same loader the overview page calls on each (uncached) refresh.
    from dashboard.loaders import load_overview

    counts: list[int] = []
    seconds: list[float] = []
    errors: list[str] = []
    f = MentionFilter(start=datetime(2026, 10, 1), end=datetime(2026, 12, 1))
    start.wait(timeout=120)
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            view = load_overview(db, f, bucket_seconds=86400, tz="Asia/Shanghai")
            counts.append(view.current.mentions)
            seconds.append(time.perf_counter() - started)
        except Exception:  # noqa: BLE001 - any failure is what this test counts
            errors.append(traceback.format_exc())
        time.sleep(0.02)  # a busy dashboard, not a spin loop: leave the writer a gap
    Path(out).write_text(json.dumps({"counts": counts, "errors": errors, "seconds": seconds}))


def test_reader_and_writer_processes_never_fail(tmp_path: Path, spawn: SpawnContext) -> None:
    db = str(tmp_path / "koubei.duckdb")
    with open_store(db) as store:
        upsert_mentions(store, _batch(0))
    writer_out, reader_out = tmp_path / "writer.json", tmp_path / "reader.json"
    start = spawn.Barrier(2)
    processes = [
        spawn.Process(target=writer, args=(db, str(writer_out), DURATION, start)),
        spawn.Process(target=reader, args=(db, str(reader_out), DURATION, start)),
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=DURATION + 60)
        assert process.exitcode == 0, f"{process.name} exited with {process.exitcode}"

    wrote = json.loads(writer_out.read_text())
    read = json.loads(reader_out.read_text())
    seconds = sorted(read["seconds"])
    print(
        f"writer: {wrote['batches']} batches of {BATCH}; reader: {len(seconds)} reads,"
        f" p50 {seconds[len(seconds) // 2] * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms"
    )
    assert wrote["errors"] == [], wrote["errors"][:1]
    assert read["errors"] == [], read["errors"][:1]
    assert wrote["batches"] >= 3, wrote
    counts = read["counts"]
    assert len(counts) >= 3, read
    # Every read sees whole batches (a transaction is all or nothing) and never goes backwards.
    assert all(count % BATCH == 0 for count in counts), counts
    assert counts == sorted(counts), counts
    assert counts[-1] > counts[0], counts
    with open_store(db, read_only=True) as store:
        final = count_mentions(store)
    assert final == (wrote["batches"] + 1) * BATCH
    assert counts[-1] <= final


HOLD = """
import sys, time
from storage import open_store
with open_store(sys.argv[1]) as store:
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_writer_that_never_lets_go_gives_database_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import loaders

    db = tmp_path / "koubei.duckdb"
    with open_store(db) as store:
        upsert_mentions(store, _batch(0))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        monkeypatch.setattr(loaders, "LOCK_TIMEOUT", 0.5)
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match="stayed locked"):
            loaders.load_overview(str(db), MentionFilter(datetime(2026, 10, 1), datetime(2026, 12, 1)), 86400)
        assert time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()
    # Once the writer is gone the same read works.
    view = loaders.load_overview(str(db), MentionFilter(datetime(2026, 10, 1), datetime(2026, 12, 1)), 86400)
    assert view.current.mentions == BATCH
