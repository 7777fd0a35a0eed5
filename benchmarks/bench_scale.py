"""Scoring as the store grows (issue 18, items 1, 4 and 5).

Builds a store of N mentions through the normal store path (storage.mentions.upsert_table,
batches of 10,000) - a year of mentions for ten brands, each text two of the project's written
reviews joined, one in ten English - and measures:

1. a backlog `koubei score` of the whole store (score_pending, as the command runs it);
2. a rerun with nothing pending;
3. a pass after 10,000 new mentions: storing them, then score_pending (finding pending work,
   scoring, writing, duplicate marking over the 30-day window);
4. duplicate grouping alone after 10,000 more new mentions (seconds, CPU seconds, peak RSS);
5. bytes per mention in the database file, as the passes left it and after compact();
6. the language split: 40,000 texts half English against all Chinese, CPU seconds per text.

N is $KOUBEI_BENCH_SCALE_N (default 100,000; 1,000,000 when asked). With
$KOUBEI_BENCH_SCALE_BACKLOG=0 the store is stored with scores already (fixed ones, from the
configured model and version, as a store a watch has kept scored holds) instead of scoring its
backlog: the rerun and the 10k pass at 1M without an hour of scoring. The script uses only what
main's code also has, so "before" figures come from the same file run against an older checkout:
`PYTHONPATH=/path/to/old/checkout .venv/bin/python benchmarks/bench_scale.py`.
Run: `make bench` or `.venv/bin/python -m benchmarks scale`.
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks.synthetic import mention_batch
from koubei.config import parse_settings
from sentiment.corpus import written_corpus
from sentiment.model import scorer_from_settings
from sentiment.pipeline import mark_duplicates, score_pending
from storage import Store, open_store
from storage import sentiment as storage_sentiment
from storage.compact import compact, storage_bytes
from storage.mentions import upsert_table
from storage.sentiment import write_scores

COUNT = int(os.environ.get("KOUBEI_BENCH_SCALE_N", "100000"))
BACKLOG = os.environ.get("KOUBEI_BENCH_SCALE_BACKLOG", "1") != "0"
NEW = 10_000
BATCH = 10_000
END = datetime(2026, 12, 1)
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


def _store(
    opener: Callable[[], Store], first: int, count: int, corpus: list[str], newest: bool = False, scored: bool = False
) -> float:
    """Seconds to store mentions first..first+count (and, `scored`, fixed scores for them)."""
    started = time.perf_counter()
    model = scorer_from_settings()
    with opener() as store:
        for start in range(first, first + count, BATCH):
            batch = _batch(start, min(BATCH, first + count - start), corpus, newest)
            upsert_table(store, batch)
            if scored:
                write_scores(store, _fixed_scores(batch, model.name, model.version), [], [], [])
    return time.perf_counter() - started


def _fixed_scores(batch: pa.Table, model: str, version: str) -> list[dict[str, Any]]:
    """A score of 0.5 per mention, current for `model` `version` (md5 of the text as stored)."""
    rows = zip(batch["source"].to_pylist(), batch["native_id"].to_pylist(), batch["text"].to_pylist())
    fixed = {"score": 0.5, "label": "neu", "model": model, "model_version": version}
    return [
        {"source": s, "native_id": n, "text_hash": hashlib.md5(t.encode()).hexdigest(), **fixed} for s, n, t in rows
    ]


def _score(opener: Callable[[], Store], settings: Any) -> str:
    calls = _time_calls(storage_sentiment, {"count_pending": "pending", "pending_mentions": "pending"})
    calls.clear()
    started = time.perf_counter()
    summary = score_pending(opener, settings)
    seconds = time.perf_counter() - started
    # Older checkouts keep no stage timings: their search for pending work is timed from outside.
    stages = getattr(summary, "timings", None) or {f"{k} (old search)": v for k, v in calls.items()}
    detail = ", ".join(f"{k} {v:.2f}s" for k, v in stages.items())
    return f"{summary.scored:,} scored in {seconds:.2f} s ({detail})"


_SPENT: dict[str, float] = {}


def _time_calls(module: Any, stages: dict[str, str]) -> dict[str, float]:
    """Seconds spent in each of `module`'s functions named in `stages` (by stage), since they
    were first wrapped; the same dict on every call."""
    spent = _SPENT
    for name, stage in stages.items():
        function = getattr(module, name, None)
        if function is None or hasattr(function, "timed"):
            continue

        def timed(*args: Any, _function: Any = function, _stage: str = stage, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _function(*args, **kwargs)
            finally:
                spent[_stage] = spent.get(_stage, 0.0) + time.perf_counter() - started

        timed.timed = True  # type: ignore[attr-defined]
        setattr(module, name, timed)
    return spent


def _peak_rss_reset() -> int:
    """Reset the process's peak RSS (Linux: clear_refs 5) and return its RSS now, in MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _status_mb(field: str) -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field + ":"))
    return int(line.split()[1]) // 1024


def _grouping(opener: Callable[[], Store], settings: Any, corpus: list[str], first: int) -> str:
    """Duplicate grouping alone (issue 18 part 2): NEW more mentions (from `first`) stored with fixed scores,
    then one marking pass; its seconds and the process's peak RSS during it."""
    _store(opener, first, NEW, corpus, newest=True, scored=True)
    before = _peak_rss_reset()
    started, cpu = time.perf_counter(), time.process_time()
    mark_duplicates(opener, settings)
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


def _timed_pass(opener: Callable[[], Store], settings: Any, corpus: list[str], first: int) -> dict[str, float]:
    """Seconds per stage of a whole pass after NEW new mentions: storing them, scoring (with the
    stages the code keeps), detection over every rule and scope."""
    from alerts.detect import detect_incidents

    stages = {"store": _store(opener, first, NEW, corpus, newest=True)}
    started = time.perf_counter()
    summary = score_pending(opener, settings)
    stages["score"] = time.perf_counter() - started
    stages.update({f"score: {k}": v for k, v in (getattr(summary, "timings", None) or {}).items()})
    started = time.perf_counter()
    detect_incidents(opener, settings, now=END)
    stages["detect"] = time.perf_counter() - started
    stages["total"] = stages["store"] + stages["score"] + stages["detect"]
    return stages


def _median_passes(opener: Callable[[], Store], settings: Any, corpus: list[str], first: int, runs: int = 3) -> str:
    """`runs` passes after NEW new mentions each: min / median seconds per stage."""
    passes = [_timed_pass(opener, settings, corpus, first + i * NEW) for i in range(runs)]
    figures = [f"{k} {min(p[k] for p in passes):.2f}/{statistics.median(p[k] for p in passes):.2f}" for k in passes[0]]
    return f"{runs} passes after {NEW:,} new mentions each, min/median s: " + ", ".join(figures)


def _overview_kpis(opener: Callable[[], Store]) -> str:
    """The overview's KPI query (current and previous period) for 14 days, all brands and one
    brand, read-only as the dashboard reads: the median of five."""
    from storage.queries import MentionFilter, kpis

    figures = []
    for brands in ((), (BRANDS[0],)):
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


def main() -> None:
    corpus, _ = written_corpus()
    print(f"N = {COUNT:,} mentions, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scale.duckdb"
        settings = parse_settings({}, db=path)

        def opener() -> Store:
            return open_store(path)

        stored = _store(opener, 0, COUNT, corpus, scored=not BACKLOG)
        print(f"stored {COUNT:,} mentions{'' if BACKLOG else ' with scores'} in {stored:.1f} s")
        print(f"{'backlog score' if BACKLOG else 'first run on the scored store'}: {_score(opener, settings)}")
        print(f"rerun, nothing pending: {_score(opener, settings)}")
        stored = _store(opener, COUNT, NEW, corpus, newest=True)
        print(f"pass after {NEW:,} new mentions: stored in {stored:.2f} s, {_score(opener, settings)}")
        print(_median_passes(opener, settings, corpus, COUNT + NEW))
        print(_overview_kpis(opener))
        print(_grouping(opener, settings, corpus, COUNT + 4 * NEW))
        print(_storage(path))
    print(_language_split())
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
