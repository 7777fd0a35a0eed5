"""Reports and exports (issue 14), measured as whole `koubei` processes.

1. `koubei export --format csv` of every mention, on the demo data and on 1,000,000 mentions.
   Target: 1M mentions in <= 30 s and <= 500 MB peak RSS (streamed, constant memory).
2. `koubei report` as HTML and as PDF, on the demo data and on the same 1M mentions.

The 1M database is made here: the project's written reviews (sentiment/corpora/written.tsv)
spread over 30 days, two brands, five products and six sources, every fiftieth with a phone
number to mask; stored through storage's own bulk writes (upsert_table, write_scores).

Run: `make bench` or `.venv/bin/python -m benchmarks reports`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from benchmarks.synthetic import mention_batch
from sentiment.corpus import written_corpus
from storage import open_store
from storage.mentions import upsert_table
from storage.sentiment import write_scores

KOUBEI = str(Path(sys.executable).with_name("koubei"))
REPO = Path(__file__).resolve().parents[1]
MILLION = 1_000_000
TARGET_SECONDS = 30.0
TARGET_RSS_MB = 500.0
START = datetime(2026, 10, 1)
DAYS = 30
PRODUCTS = (
    ("声浪", "声浪X1耳机"),
    ("声浪", "声浪P20充电宝"),
    ("声浪", "声浪Pad平板"),
    ("鲜到家", "鲜到家生鲜配送"),
    ("鲜到家", "鲜到家会员卡"),
)
SOURCES = ("demo.jd", "demo.weibo", "demo.douban", "demo.bilibili", "demo.appstore", "import.csv")
CHUNK = 100_000


def _chunk(first: int, count: int, texts: list[str]) -> pa.Table:
    ids = range(first, first + count)
    span = DAYS * 86400
    published = [START + timedelta(seconds=(i * 7919) % span) for i in ids]
    return mention_batch(
        ids,
        published,
        {
            "source": [SOURCES[i % len(SOURCES)] for i in ids],
            "native_id": [f"b{i}" for i in ids],
            "brand": [PRODUCTS[i % len(PRODUCTS)][0] for i in ids],
            "product": [PRODUCTS[i % len(PRODUCTS)][1] for i in ids],
            "author_hash": [f"a{i % 50_000}" for i in ids],
            "text": [texts[i % len(texts)] + (f" 电话1381234{i % 10_000:04d}" if i % 50 == 0 else "") for i in ids],
            "language": ["zh"] * count,
        },
    )


def build_million(path: Path) -> None:
    texts, labels = written_corpus()
    with open_store(path) as store:
        for first in range(0, MILLION, CHUNK):
            upsert_table(store, _chunk(first, CHUNK, texts))
            scores = [
                {
                    "source": SOURCES[i % len(SOURCES)],
                    "native_id": f"b{i}",
                    "score": 0.1 if labels[i % len(labels)] == 0 else 0.9,
                    "label": "neg" if labels[i % len(labels)] == 0 else "pos",
                    "model": "bench",
                    "model_version": "1",
                    "text_hash": "",
                }
                for i in range(first, first + CHUNK)
            ]
            aspects = [
                {"source": s["source"], "native_id": s["native_id"], "aspect": "质量", "polarity": s["label"]}
                for s in scores[::3]
            ]
            write_scores(store, scores, aspects, [], [])


# Run through a small launcher: a child forked straight from this process would count this
# process's memory (the 1M build) in its peak RSS until it execs.
LAUNCHER = (
    "import resource, subprocess, sys, time\n"
    "started = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "seconds = time.perf_counter() - started\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(done.stdout.strip()); print(done.stderr[-800:], file=sys.stderr)\n"
    "print(f'{seconds} {peak}')\n"
    "sys.exit(done.returncode)\n"
)


def run_measured(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one process, which must succeed."""
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *command], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)} failed: {done.stderr[-800:]}"
    *lines, figures = done.stdout.strip().splitlines()
    print("    " + " ".join(lines))
    seconds, peak = (float(x) for x in figures.split())
    return seconds, peak


def _demo_db(work: Path) -> Path:
    from tests.dashboard.conftest import build_demo_db

    return build_demo_db(work / "demo.duckdb")


def main() -> None:
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = [("demo data", _demo_db(work), "2026-11-14..2026-11-20", "声浪")]
        started = time.perf_counter()
        build_million(work / "million.duckdb")
        print(f"built 1,000,000 mentions in {time.perf_counter() - started:.0f} s")
        cases.append(("1M mentions", work / "million.duckdb", "2026-10-01..2026-10-31", "声浪"))
        for name, db, period, brand in cases:
            base = [KOUBEI, "--db", str(db)]
            seconds, rss = run_measured(
                [*base, "export", "--period", period, "--format", "csv", "--output", str(work / "out.csv")]
            )
            print(f"koubei export csv, {name}: {seconds:.1f} s, peak RSS {rss:.0f} MB")
            if name == "1M mentions":
                rows = sum(1 for _ in (work / "out.csv").open(encoding="utf-8-sig")) - 2  # header and count line
                assert rows == MILLION, f"the export holds {rows:,} rows, not {MILLION:,}"
                if seconds > TARGET_SECONDS or rss > TARGET_RSS_MB:
                    missed.append(f"1M CSV export {seconds:.1f} s / {rss:.0f} MB")
                print(f"    targets: <= {TARGET_SECONDS:.0f} s and <= {TARGET_RSS_MB:.0f} MB")
            for fmt in ("html", "pdf"):
                out = work / f"report.{fmt}"
                command = [*base, "report", "--period", period, "--brand", brand, "--format", fmt, "--output", str(out)]
                seconds, rss = run_measured(command)
                print(
                    f"koubei report {fmt}, {name}: {seconds:.1f} s, peak RSS {rss:.0f} MB,"
                    f" {out.stat().st_size / 1e6:.1f} MB file"
                )
    assert not missed, "; ".join(missed)


if __name__ == "__main__":
    main()
