"""Storage: how fast mentions are merged, first time and again (idempotent reload).

Target (issue 3's parse-and-store budget leaves this half): >= 40,000 mentions/s
stored on one core, batches of 10,000, Python records in.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from koubei.records import Mention
from storage import open_store, upsert_mentions

TARGET_PER_SECOND = 40_000
COUNT = 200_000
BATCH = 10_000


def _mentions() -> list[Mention]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Mention(
            "bench",
            str(i),
            f"第{i}条：物流很快，质量不错，客服态度也好",
            start + timedelta(seconds=i),
            url=f"https://example.invalid/{i}",
            author=f"user{i % 5000}",
            rating=float(i % 5 + 1),
            brand="声浪",
            product="声浪X1耳机",
            likes=i % 97,
            raw={"id": i, "body": "x" * 80},
        )
        for i in range(COUNT)
    ]


def main() -> None:
    duckdb.execute("SET threads = 1")
    mentions = _mentions()
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "bench.duckdb") as store:
        store.con.execute("SET threads = 1")
        rates = []
        for label in ("first load", "reload (all unchanged)"):
            started = time.perf_counter()
            for i in range(0, COUNT, BATCH):
                upsert_mentions(store, mentions[i : i + BATCH])
            rate = COUNT / (time.perf_counter() - started)
            rates.append(rate)
            print(f"storage {label}: {COUNT:,} mentions, {rate:,.0f} mentions/s (one thread)")
    assert rates[0] >= TARGET_PER_SECOND, f"first load {rates[0]:,.0f}/s < {TARGET_PER_SECOND:,}/s"


if __name__ == "__main__":
    main()
