"""Scoring as the store grows (issue 18, parts 1, 2, 6 and 7), on the shared year store.

The store is benchmarks/yearstore.py's: a year of N mentions for 20 brands, scored and grouped
as a watch keeps them, built once into $KOUBEI_BENCH_DATA (and built here when the cache has
none: at 10M that takes about an hour). Every figure that writes works on a copy. Measured:

1. three passes of 10,000 new mentions each, on one open of the database as `koubei run`
   makes them: storing them, score_pending (finding pending work, scoring, writing, duplicate
   marking), detection and delivery; min/median seconds per stage (total: the pass, open to
   close) and the peak RSS;
2. the overview's KPI query on the store (read-only);
3. duplicate grouping alone after 10,000 more new mentions (seconds, CPU seconds, peak RSS);
4. bytes per mention in the database file, as the passes left it and after compact();
5. a backlog `koubei score`: BACKLOG more mentions stored unscored, then score_pending as the
   command runs it (one worker per core);
6. the language split: 40,000 texts half English against all Chinese, CPU seconds per text.

N is $KOUBEI_BENCH_SCALE_N (default 10,000,000, what the issue asks; 100000 or 1000000 for the
smaller stores), BACKLOG $KOUBEI_BENCH_SCALE_BACKLOG_N (default 1,000,000).
Run: `make bench scale` or `.venv/bin/python -m benchmarks scale`.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks.synthetic import mention_batch
from benchmarks.yearstore import END, OWN_BRANDS, Corpus, as_queued, copy_store, load_corpus, new_batch, year_store
from koubei.config import parse_settings
from sentiment.keywords import warm_in_background
from sentiment.model import scorer_from_settings
from sentiment.pipeline import mark_duplicates, score_pending
from storage import Store, open_store
from storage.compact import compact, storage_bytes
from storage.held import held
from storage.mentions import upsert_table
from storage.sentiment import write_scores

COUNT = int(os.environ.get("KOUBEI_BENCH_SCALE_N", "10000000"))
BACKLOG = int(os.environ.get("KOUBEI_BENCH_SCALE_BACKLOG_N", "1000000"))
NEW = 10_000
BATCH = 10_000
BRANDS = tuple(f"品牌{i}" for i in range(10))
SOURCES = ("demo.jd", "demo.weibo", "demo.douban", "demo.bilibili", "demo.appstore", "import.csv")
ENGLISH = (
    "The battery died after two days, terrible product",
    "Great phone, fast delivery, very happy with it",
    "Support never answered my emails",
    "Sound quality is fine for the price",
)


def _texts(first: int, count: int, corpus: list[str]) -> list[str]:
    pick = random.Random(first)
    return [
        ENGLISH[i % len(ENGLISH)] + f" (order {i})"
        if i % 10 == 9
        else corpus[pick.randrange(len(corpus))] + "，" + corpus[pick.randrange(len(corpus))]
        for i in range(first, first + count)
    ]


def _batch(first: int, count: int, corpus: list[str], newest: bool = False) -> pa.Table:
    ids = range(first, first + count)
    span = 86400 * (1 if newest else 365)
    published = [END - timedelta(seconds=(i * 7919) % span) for i in ids]
    texts = _texts(first, count, corpus)
    return mention_batch(
        ids,
        published,
        {
            "source": [SOURCES[i % len(SOURCES)] for i in ids],
            "native_id": [f"s{i}" for i in ids],
            "brand": [BRANDS[i % len(BRANDS)] for i in ids],
            "product": [f"{BRANDS[i % len(BRANDS)]}-P{i % 3}" for i in ids],
            "author_hash": [f"a{i % 80_000}" for i in ids],
            "text": texts,
            "language": ["en" if i % 10 == 9 else "zh" for i in ids],
        },
    )


def _store(opener: Callable[[], Store], first: int, count: int, corpus: list[str], newest: bool = False) -> float:
    """Seconds to store mentions first..first+count of the ten-brand generator (bench_search's store)."""
    started = time.perf_counter()
    with opener() as store:
        for start in range(first, first + count, BATCH):
            upsert_table(store, _batch(start, min(BATCH, first + count - start), corpus, newest))
    return time.perf_counter() - started


def _store_new(opener: Callable[[], Store], corpus: Corpus, run: int, count: int = NEW, scored: bool = False) -> float:
    """Seconds to store `count` new mentions of the year store's last day (run `run`: new keys
    each run), and with `scored`, their pre-computed scores (as yearstore stores its year)."""
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        table, pending, rows = new_batch(corpus, min(BATCH, count - first), run * 1000 + first // BATCH)
        with opener() as store:
            upsert_table(store, table)
            if scored:
                write_scores(store, *rows, scored=as_queued(store, pending))
    return time.perf_counter() - started


def _peak_rss_reset() -> int:
    """Reset the process's peak RSS (Linux: clear_refs 5) and return its RSS now, in MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _status_mb(field: str) -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field + ":"))
    return int(line.split()[1]) // 1024


def _grouping(opener: Callable[[], Store], settings: Any, corpus: Corpus) -> str:
    """Duplicate grouping alone (issue 18 part 2): NEW more mentions stored with scores, then one
    marking pass; its seconds, CPU seconds and the process's peak RSS during it."""
    _store_new(opener, corpus, 90, scored=True)
    before = _peak_rss_reset()
    started, cpu = time.perf_counter(), time.process_time()
    mark_duplicates(opener, settings, now=END)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = _status_mb("VmHWM")
    return f"grouping {NEW:,} new mentions: {seconds:.2f} s ({cpu:.2f} CPU s), peak RSS {peak} MB (from {before} MB)"


def _storage(path: Path) -> str:
    """Bytes per mention (issue 18 item 6) as the passes left the file, and after compact()."""
    figures = []
    for label in ("as the passes left it", "after compact()"):
        if label.startswith("after"):
            compact(path)
        spent = storage_bytes(path)
        figures.append(
            f"{label} {spent.file_bytes / 1e6:.0f} MB: {spent.per_mention():.0f} B per mention,"
            f" {spent.per_mention(with_text=False):.0f} B without its text, {spent.free_blocks} of"
            f" {spent.total_blocks} blocks free"
        )
    return "database file " + "; ".join(figures)


def _language_split() -> str:
    scorer = scorer_from_settings()
    zh = ["这个手机质量太差了，客服也不理人", "物流很快，包装完好，非常满意", "电池续航一般般吧"]
    chinese = [zh[i % 3] + str(i) for i in range(40_000)]
    half = [ENGLISH[i % 4] + str(i) if i % 2 else t for i, t in enumerate(chinese)]
    scorer.score(chinese[:50] + half[:50])  # load the models outside the timing
    figures = []
    for name, texts in (("all Chinese", chinese), ("half English", half)):
        started = time.process_time()
        scorer.score(texts)
        figures.append(f"{name} {(time.process_time() - started) / len(texts) * 1e6:.0f} us/text")
    return "language split, 40,000 texts: " + ", ".join(figures)


def _timed_pass(opener: Callable[[], Store], settings: Any, corpus: Corpus, run: int) -> dict[str, float]:
    """Seconds per stage of a whole pass after NEW new mentions, on one open of the database as
    `koubei run` makes it (storage.held): storing them, scoring (with the stages the code keeps),
    detection over every rule and scope, delivery; and the pass's peak RSS (MB)."""
    from alerts.delivery import deliver_alerts
    from alerts.detect import detect_incidents

    _peak_rss_reset()
    stages: dict[str, float] = {}
    started = time.perf_counter()
    with held(opener) as pass_opener:
        stages["store"] = _store_new(pass_opener, corpus, run)
        warm_in_background()  # as `koubei run` does once a collect stored new mentions
        clock = time.perf_counter()
        summary = score_pending(pass_opener, settings)
        stages["score"] = time.perf_counter() - clock
        stages.update({f"score: {k}": v for k, v in summary.timings.items()})
        clock = time.perf_counter()
        detect_incidents(pass_opener, settings, now=END)
        stages["detect"] = time.perf_counter() - clock
        clock = time.perf_counter()
        deliver_alerts(pass_opener, settings, now=END)
        stages["deliver"] = time.perf_counter() - clock
    stages["total"] = time.perf_counter() - started
    stages["peak RSS MB"] = _status_mb("VmHWM")
    return stages


def _median_passes(opener: Callable[[], Store], settings: Any, corpus: Corpus, runs: int = 3) -> str:
    """`runs` passes after NEW new mentions each: min / median per stage."""
    passes = [_timed_pass(opener, settings, corpus, run) for run in range(1, runs + 1)]
    figures = [f"{k} {min(p[k] for p in passes):.2f}/{statistics.median(p[k] for p in passes):.2f}" for k in passes[0]]
    return f"{runs} passes after {NEW:,} new mentions each, min/median s: " + ", ".join(figures)


def _backlog(opener: Callable[[], Store], settings: Any, corpus: Corpus) -> str:
    """BACKLOG more mentions stored unscored, then score_pending as `koubei score` runs it."""
    stored = _store_new(opener, corpus, 100, count=BACKLOG)
    before = os.times()
    started = time.perf_counter()
    with held(opener) as once:  # one open for the run, as the command holds it
        summary = score_pending(once, settings)
    seconds = time.perf_counter() - started
    after = os.times()
    own = after.user + after.system - before.user - before.system
    workers = after.children_user + after.children_system - before.children_user - before.children_system
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in summary.timings.items())
    return (
        f"backlog of {BACKLOG:,} (stored in {stored:.0f} s): {summary.scored:,} scored in {seconds:.2f} s"
        f" = {summary.scored / seconds:,.0f}/s ({stages}; CPU: writer {own:.1f} s, analysis workers {workers:.1f} s)"
    )


def _overview_kpis(opener: Callable[[], Store]) -> str:
    """The overview's KPI query (current and previous period) for 14 days, all brands and one
    brand, read-only as the dashboard reads: the median of five."""
    from storage.queries import MentionFilter, kpis

    figures = []
    for brands in ((), (next(iter(OWN_BRANDS)),)):
        f = MentionFilter(start=END - timedelta(days=14), end=END, brands=brands)
        times = []
        with opener() as store:
            for _ in range(5):
                started = time.perf_counter()
                kpis(store, f)
                kpis(store, f.previous())
                times.append(time.perf_counter() - started)
        figures.append(f"{'one brand' if brands else 'all brands'} {sorted(times)[2] * 1000:.0f} ms")
    return "overview KPIs, 14 days and the 14 before: " + ", ".join(figures)


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def main() -> None:
    print(f"N = {COUNT:,} mentions, {os.cpu_count()} cores, {_load()} at start")
    started = time.perf_counter()
    shared = year_store(COUNT)
    print(f"year store {shared} ({shared.stat().st_size / 1e9:.2f} GB), ready in {time.perf_counter() - started:.0f} s")
    print(_overview_kpis(lambda: open_store(shared, read_only=True)))
    settings = parse_settings({})
    corpus = load_corpus(settings)
    with tempfile.TemporaryDirectory(dir=shared.parent) as tmp:
        path = copy_store(COUNT, Path(tmp) / "scale.duckdb")
        settings = parse_settings({}, db=path)

        def opener() -> Store:
            return open_store(path)

        print(f"{_median_passes(opener, settings, corpus)} ({_load()})")
        print(f"{_grouping(opener, settings, corpus)} ({_load()})")
        print(f"{_storage(path)} ({_load()})")
        print(f"{_backlog(opener, settings, corpus)} ({_load()})")
    print(_language_split())
    print(f"{_load()} at end")


if __name__ == "__main__":
    main()
