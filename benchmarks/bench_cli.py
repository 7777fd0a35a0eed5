"""CLI start-up (issue 11, part 12), measured as whole processes, medians of several runs.

1. `koubei --help`. Target: <= 0.3 s. Also printed: `import koubei.cli` as `-X importtime` reports it.
2. `koubei score --input reviews.csv --output out.csv` on 2,000 reviews against plain snownlp
   scoring the same 2,000 texts in a process of its own (import snownlp, `.sentiments` each).
   Target: koubei's throughput >= 10x snownlp's.

The reviews are the project's own written corpus (sentiment/corpora/written.tsv), spread over
its sources; the file is written to a temporary directory and every process runs there.

Run: `make bench` or `.venv/bin/python -m benchmarks cli`.
"""

from __future__ import annotations

import csv
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sentiment.corpus import written_corpus

HELP_TARGET_SECONDS = 0.3
SCORE_TARGET_RATIO = 10.0
REVIEWS = 2_000
KOUBEI = str(Path(sys.executable).with_name("koubei"))
PLAIN_SNOWNLP = (
    "import csv, sys\n"
    "from snownlp import SnowNLP\n"
    "with open(sys.argv[1], encoding='utf-8', newline='') as f:\n"
    "    texts = [row['text'] for row in csv.DictReader(f)]\n"
    "scores = [SnowNLP(t).sentiments for t in texts]\n"
    "print(len(scores))\n"
)


def write_reviews(path: Path) -> None:
    texts, _ = written_corpus()
    step = len(texts) // REVIEWS
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("id", "text"))
        writer.writerows((f"r{i}", text) for i, text in enumerate(texts[::step][:REVIEWS]))


def median_seconds(command: list[str], runs: int, cwd: Path) -> float:
    """Wall-clock median of `runs` runs of a process; each must succeed."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_cli_ms(runs: int, cwd: Path) -> float:
    """Median of `import koubei.cli`'s cumulative time in `-X importtime`'s report, in ms."""
    found = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import koubei.cli"],
            cwd=cwd,
            check=True,
            capture_output=True,
            text=True,
        )
        match = re.search(r"^import time:\s+\d+ \|\s+(\d+) \| koubei\.cli$", result.stderr, flags=re.MULTILINE)
        assert match, "no koubei.cli line in the -X importtime report"
        found.append(int(match.group(1)) / 1000)
    return statistics.median(found)


def main() -> None:
    missed = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        reviews, scored = work / "reviews.csv", work / "scored.csv"
        write_reviews(reviews)

        help_s = median_seconds([KOUBEI, "--help"], 7, work)
        print(f"koubei --help: {help_s:.3f} s (median of 7; target <= {HELP_TARGET_SECONDS} s)")
        print(f"import koubei.cli: {import_cli_ms(7, work):.0f} ms (median of 7, -X importtime)")
        if help_s > HELP_TARGET_SECONDS:
            missed.append(f"koubei --help {help_s:.3f} s > {HELP_TARGET_SECONDS} s")

        score_s = median_seconds([KOUBEI, "score", "--input", str(reviews), "--output", str(scored)], 5, work)
        with scored.open(encoding="utf-8", newline="") as handle:
            rows = sum(1 for _ in csv.DictReader(handle))
        assert rows == REVIEWS, f"koubei score wrote {rows} rows, not {REVIEWS}"
        snownlp_s = median_seconds([sys.executable, "-c", PLAIN_SNOWNLP, str(reviews)], 3, work)
        ratio = snownlp_s / score_s
        print(
            f"koubei score --input, {REVIEWS:,} reviews: {score_s:.2f} s (median of 5), {REVIEWS / score_s:,.0f} reviews/s"
        )
        print(
            f"plain snownlp, same {REVIEWS:,} texts: {snownlp_s:.2f} s (median of 3), {REVIEWS / snownlp_s:,.0f} texts/s"
        )
        print(f"koubei score / snownlp throughput: {ratio:.1f}x (target >= {SCORE_TARGET_RATIO:.0f}x)")
        if ratio < SCORE_TARGET_RATIO:
            missed.append(f"koubei score {ratio:.1f}x snownlp's throughput < {SCORE_TARGET_RATIO:.0f}x")
    assert not missed, "; ".join(missed)


if __name__ == "__main__":
    main()
