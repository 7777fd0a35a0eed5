"""Sentiment benchmark: speed of the default model on one core, alone and with
everything scoring derives per text (reading, aspects, triage: issue 15's target),
snownlp serial vs parallel (identical results), re-scoring skip, and issue 4's
accuracy targets on the unseen test rows of ../shared/datasets/sentiment.

Run: `.venv/bin/python -m benchmarks sentiment` (part of `make bench`).
Raises AssertionError listing every missed target.
"""

from __future__ import annotations

import os

# One core: numpy's own threading must not make the figure look better than it is.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

SPEED_TARGET = 5000.0  # texts/s, one core, default model (alone, and with reading, aspects and triage)


def _texts(directory: Path, n: int) -> list[str]:
    from evaluation.sentiment import DATASETS, load_split

    pool: list[str] = []
    for name in DATASETS:
        _, test = load_split(directory, name)
        pool += [t for t, _ in test]
    rng = np.random.default_rng(0)
    return [pool[i] for i in rng.choice(len(pool), size=n, replace=len(pool) < n)]


def bench_speed(texts: list[str]) -> float:
    from sentiment.model import load_model

    model = load_model("builtin")
    model.score(texts[:500])  # warm-up: first touch of the vocabulary arrays
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        model.score(texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"default model: {best:,.0f} texts/s on one core ({len(texts)} texts, mean {mean_len:.0f} chars)")
    return best


def bench_analysis(texts: list[str]) -> float:
    """Texts/s of sentiment.analysis.analyse: the model, triage's reading (with the model reading
    the clauses after a turn), aspects and triage - what `koubei score` does per mention. The
    target is asserted on wall-clock time; texts per CPU-second are printed beside it, the figure
    that still means something on a machine other jobs load."""
    from sentiment.analysis import analyse
    from sentiment.aspects import AspectTagger
    from sentiment.model import Scorer, load_model

    scorer, tagger = Scorer(load_model("builtin")), AspectTagger()
    analyse(scorer, tagger, texts[:500])  # warm-up: vocabulary arrays, lexicons, VADER
    best = best_cpu = 0.0
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        analyse(scorer, tagger, texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
        best_cpu = max(best_cpu, len(texts) / (time.process_time() - cpu))
    print(
        f"model + reading + aspects + triage: {best:,.0f} texts/s on one core ({len(texts)} texts;"
        f" {best_cpu:,.0f} per CPU-second, load average {os.getloadavg()[0]:.1f})"
    )
    return best


def bench_snownlp(texts: list[str]) -> bool:
    from sentiment.model import SnowNLPModel

    workers = os.cpu_count() or 1
    SnowNLPModel(workers=1).score(texts[:5])  # import outside the timing
    started = time.perf_counter()
    serial = SnowNLPModel(workers=1).score(texts)
    serial_rate = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    parallel = SnowNLPModel(workers=workers, parallel_min=1).score(texts)
    parallel_rate = len(texts) / (time.perf_counter() - started)
    same = bool(np.array_equal(serial, parallel))
    print(
        f"snownlp: serial {serial_rate:,.0f} texts/s, {workers} workers {parallel_rate:,.0f} texts/s,"
        f" identical results: {same}"
    )
    return same


def bench_rescoring(texts: list[str]) -> tuple[int, float, float]:
    from koubei.config import parse_settings
    from koubei.records import Mention
    from sentiment.pipeline import score_pending
    from storage import open_store, upsert_mentions

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        now = datetime.now(UTC)
        mentions = [
            Mention("bench", str(i), t, now - timedelta(minutes=i), author=f"u{i}", brand="声浪")
            for i, t in enumerate(texts)
        ]
        with open_store(path) as store:
            upsert_mentions(store, mentions)
        settings = parse_settings({}, db=path)
        started = time.perf_counter()
        first = score_pending(lambda: open_store(path), settings)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = score_pending(lambda: open_store(path), settings)
        again_s = time.perf_counter() - started
    print(
        f"pipeline: {first.scored} mentions scored+aspects+triage+stored in {first_s:.1f}s"
        f" ({first.scored / first_s:,.0f}/s); re-run scored {again.scored} in {again_s:.2f}s"
    )
    return again.scored, first_s, again_s


def bench_accuracy(directory: Path) -> list[str]:
    from evaluation.sentiment import DATASETS, run_eval

    missed = []
    for row in run_eval(list(DATASETS), ["builtin"], directory):
        status = "met" if row.met else "MISSED"
        print(
            f"accuracy {row.dataset:9} {row.accuracy:.4f} (target {row.target}) {status};"
            f" macro-F1 {row.macro_f1:.4f} ROC-AUC {row.roc_auc:.4f} ECE {row.ece:.4f}"
            f" on {row.rows} unseen rows ({row.excluded} excluded); {row.texts_per_s:,.0f} texts/s"
        )
        if not row.met:
            missed.append(f"{row.dataset} accuracy {row.accuracy:.4f} < {row.target}")
    return missed


def main() -> None:
    from evaluation.sentiment import DEFAULT_DATASETS_DIR

    directory = Path(os.environ.get("KOUBEI_SENTIMENT_DATASETS", DEFAULT_DATASETS_DIR))
    texts = _texts(directory, 20000)
    missed: list[str] = []
    rate = bench_speed(texts)
    if rate < SPEED_TARGET:
        missed.append(f"default model {rate:,.0f} texts/s < {SPEED_TARGET:,.0f}")
    rate = bench_analysis(texts)
    if rate < SPEED_TARGET:
        missed.append(f"model with triage {rate:,.0f} texts/s < {SPEED_TARGET:,.0f}")
    if not bench_snownlp(texts[:800]):
        missed.append("snownlp parallel results differ from serial")
    rescored, _, _ = bench_rescoring(texts[:5000])
    if rescored:
        missed.append(f"re-run re-scored {rescored} unchanged mentions")
    missed += bench_accuracy(directory)
    if missed:
        raise AssertionError("; ".join(missed))


if __name__ == "__main__":
    main()
