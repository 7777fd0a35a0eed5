"""Dashboard read speed: one uncached overview refresh (open a read-only connection,
run every overview query, close) on a 90-day database.

Target: p50 <= 1.0 s for the default 14-day view of all brands at 500k mentions
(a refresh must stay well inside the 30 s live-refresh interval and feel
instant after a filter change; cached reruns cost ~nothing).
Set KOUBEI_BENCH_DASHBOARD_N to change the size.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dashboard.loaders import load_overview
from koubei.records import Mention
from storage import open_store, upsert_mentions
from storage.queries import MentionFilter
from storage.sentiment import write_scores

TARGET_P50 = 1.0
BRANDS = {"声浪": ["声浪X1耳机", "声浪P20充电宝", "声浪Pad平板"], "鲜到家": ["鲜到家生鲜配送", "鲜到家会员卡"]}
SOURCES = ["demo.weibo", "demo.jd", "demo.bilibili", "demo.douban", "demo.appstore"]
END = datetime(2026, 11, 20, tzinfo=UTC)


def build(path: Path, n: int, batch: int = 50_000) -> None:
    rng = random.Random(7)
    with open_store(path) as store:
        for first in range(0, n, batch):
            mentions, scores = [], []
            for i in range(first, min(n, first + batch)):
                brand = rng.choice(list(BRANDS))
                source = rng.choice(SOURCES)
                score = rng.random()
                mentions.append(
                    Mention(
                        source=source,
                        native_id=str(i),
                        text=f"第{i}条 评论内容 质量 物流 客服",
                        published_at=END - timedelta(seconds=rng.randrange(90 * 86400)),
                        brand=brand,
                        product=rng.choice(BRANDS[brand]),
                        url=f"https://example.com/{i}",
                        likes=rng.randrange(50),
                    )
                )
                scores.append(
                    {
                        "source": source,
                        "native_id": str(i),
                        "score": score,
                        "label": "neg" if score < 0.3 else "neu" if score < 0.6 else "pos",
                        "model": "bench",
                        "model_version": "1",
                        "text_hash": "-",
                    }
                )
            upsert_mentions(store, mentions)
            write_scores(store, scores, [], [], [])


def timed(db: str, f: MentionFilter, bucket: int, runs: int = 7) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        load_overview(db, f, bucket)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    n = int(os.environ.get("KOUBEI_BENCH_DASHBOARD_N", "500000"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        build(path, n)
        print(f"built {n:,} scored mentions over 90 days in {time.perf_counter() - started:.1f}s")
        end = END.replace(tzinfo=None)
        cases = {
            "14 days, all brands, hourly": (MentionFilter(end - timedelta(days=14), end), 3600),
            "14 days, one brand + product": (
                MentionFilter(end - timedelta(days=14), end, brands=("声浪",), products=("声浪X1耳机",)),
                3600,
            ),
            "90 days, all brands, daily": (MentionFilter(end - timedelta(days=90), end), 86400),
        }
        results = {}
        for name, (f, bucket) in cases.items():
            seconds = timed(str(path), f, bucket)
            results[name] = statistics.median(seconds)
            print(f"overview refresh, {name}: p50 {results[name] * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms")
    p50 = results["14 days, all brands, hourly"]
    assert p50 <= TARGET_P50, f"overview refresh p50 {p50:.2f}s > {TARGET_P50}s at {n:,} mentions"


if __name__ == "__main__":
    main()
