"""The overview's competitor comparison (issue 13 part 1): every query of one uncached comparison
(dashboard/compare.py load_comparison: share of voice, net sentiment and negative share per brand
over time, per channel, the brands' incidents), one read-only connection, on a year of mentions.

Target: median <= 1.0 s at 1,000,000 mentions (20 brands, 4 compared) for the 14-day default view,
90 days and the whole year. Set KOUBEI_BENCH_COMPARE_N to change the size.
Run: `make bench` or `.venv/bin/python -m benchmarks compare`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from dashboard.compare import load_comparison
from storage import Store, open_store
from storage.mentions import BATCH_SCHEMA, upsert_table
from storage.queries import MentionFilter
from storage.sentiment import write_scores

COUNT = int(os.environ.get("KOUBEI_BENCH_COMPARE_N", "1000000"))
TARGET_MEDIAN = 1.0
BATCH = 50_000
END = datetime(2026, 12, 1)
BRANDS = tuple(f"品牌{i}" for i in range(20))
COMPARED = BRANDS[:4]
SOURCES = ("demo.jd", "demo.weibo", "demo.douban", "demo.bilibili", "demo.appstore")
LABELS = ("pos", "pos", "neu", "neg")
SCORES = {"pos": 0.9, "neu": 0.5, "neg": 0.1}


def _batch(first: int, count: int) -> pa.Table:
    ids = range(first, first + count)
    published = [END - timedelta(seconds=(i * 7919) % (86400 * 365)) for i in ids]
    return pa.Table.from_pydict(
        {
            "source": [SOURCES[i % len(SOURCES)] for i in ids],
            "native_id": [f"c{i}" for i in ids],
            "brand": [BRANDS[(i * 7) % len(BRANDS)] for i in ids],
            "product": [None] * count,
            "url": [None] * count,
            "author_hash": [None] * count,
            "text": [f"评论{i}" for i in ids],
            "rating": [None] * count,
            "language": ["zh"] * count,
            "published_at": published,
            "collected_at": published,
            "updated_at": published,
            "likes": [i % 97 for i in ids],
            "reposts": [None] * count,
            "replies": [None] * count,
            "content_hash": [None] * count,
            "raw": [None] * count,
            "approximate_time": [False] * count,
        },
        schema=BATCH_SCHEMA,
    )


def build(opener: Callable[[], Store], count: int) -> None:
    with opener() as store:
        for first in range(0, count, BATCH):
            size = min(BATCH, count - first)
            upsert_table(store, _batch(first, size))
            labels = [LABELS[(i * 3) % len(LABELS)] for i in range(first, first + size)]
            write_scores(
                store,
                [
                    {
                        "source": SOURCES[i % len(SOURCES)],
                        "native_id": f"c{i}",
                        "score": SCORES[label],
                        "label": label,
                        "model": "bench",
                        "model_version": "1",
                        "text_hash": "-",
                    }
                    for i, label in zip(range(first, first + size), labels)
                ],  # fmt: skip
                [],
                [],
                [],
            )


def timed(db: str, f: MentionFilter, runs: int = 7) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        view = load_comparison(db, f, None, "Asia/Shanghai")
        seconds.append(time.perf_counter() - started)
        assert not view.series.empty and not view.channels.empty
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "compare.duckdb"
        started = time.perf_counter()
        build(lambda: open_store(db), COUNT)
        print(f"built {COUNT:,} mentions, {len(BRANDS)} brands, in {time.perf_counter() - started:.1f} s")
        worst = 0.0
        for days in (14, 90, 365):
            f = MentionFilter(END - timedelta(days=days), END, brands=COMPARED)
            seconds = timed(str(db), f)
            median = statistics.median(seconds)
            worst = max(worst, median)
            print(f"comparison of {len(COMPARED)} brands, {days} days: median {median * 1000:.0f} ms"
                  f" (min {min(seconds) * 1000:.0f}, max {max(seconds) * 1000:.0f}, {len(seconds)} runs)")  # fmt: skip
        assert worst <= TARGET_MEDIAN, f"comparison median {worst:.2f} s > {TARGET_MEDIAN} s"


if __name__ == "__main__":
    main()
