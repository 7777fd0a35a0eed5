"""Scoring the database: every mention in the score queue, in batches.

Storing a new or changed mention queues it (storage/queue.py), and a batch leaves
the queue with its scores, so re-running skips everything already done without
reading it, and a changed mention is re-scored; a change of model or version
queues once every mention not scored by it. Batches are analysed on a pool of
worker processes (one per core by default), with results equal to serial ones.
Each batch reads in one
short-lived Store and writes in another, so the database is free while the
model works (the dashboard can read between units of work). After scoring,
near-duplicate detection runs over the recent window and marks template copies
as excluded. Marking is owed from the moment a batch is stored (a watermark in
the database, storage/sentiment.py), so a run killed before its groups were
written marks them on the next run, even one with nothing left to score.

A `stop` event (SIGTERM in `koubei watch`) is looked at between chunks of a
batch and inside marking: the batch being analysed is dropped unwritten, marking
stays owed, and the stored batches are whole.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from typing import Any

import pyarrow as pa

from koubei.config import Settings
from koubei.errors import Stopped
from sentiment.analysis import Analysis, analyse_rows
from sentiment.aspects import AspectTagger, tagger_from_settings
from sentiment.grouping import mark_duplicates
from sentiment.model import Scorer, scorer_from_settings
from storage import Store, queue
from storage import sentiment as db
from storage.queue import PendingMention

ANALYSE_CHUNK = 250  # texts analysed between two looks at `stop`: a stop waits for one chunk at most
READ_SIZE = 20_000  # queued mentions read per open: each read joins the mentions table once
# Mentions stored per transaction. Each batch's write pays per statement and per commit, not only
# per row: on a 100k store a 50,000 backlog wrote in 49.5 s in batches of 2,000 (commits 18.8 s),
# 25.1 s in batches of 20,000 (commits 5.3 s), load 15-18. A stop still waits for one ANALYSE_CHUNK.
# The default is [sentiment] score_batch (20,000).
PARALLEL_MIN = 2 * ANALYSE_CHUNK  # fewer pending mentions than this are not worth starting workers
STAGES = ("pending", "scoring", "writing", "duplicates")


@dataclass(frozen=True)
class ScoreSummary:
    scored: int
    negatives: int
    urgent: int  # tier 4-5
    model: str
    model_version: str
    duplicates_excluded: int = 0
    stopped: bool = False  # a stop was requested: what is stored is whole, the rest waits for the next run
    # Seconds per stage: finding pending work, scoring, writing scores, marking duplicates.
    timings: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        stopped = " (stopped early: the rest is scored on the next run)" if self.stopped else ""
        return (
            f"scored {self.scored} mentions with {self.model} {self.model_version}: {self.negatives} negative,"
            f" {self.urgent} tier 4-5; {self.duplicates_excluded} template copies excluded{stopped}"
        )


@dataclass
class _Tally:
    scored: int = 0
    negatives: int = 0
    urgent: int = 0
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] += time.perf_counter() - started


def score_pending(
    open_store: Callable[[], Store],
    settings: Settings,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    model: str | None = None,
    stop: threading.Event | None = None,
    workers: int | None = None,
    bucket: queue.Bucket | None = None,
) -> ScoreSummary:
    """Score what the score queue holds (storage/queue.py), `batch_size` mentions (default
    [sentiment] score_batch) per stored unit of work, analysed on `workers` processes (default [sentiment] workers, else one per
    core); then mark duplicates if owed. With `bucket` (a `koubei worker`'s claimed share of
    the queue) only that share is scored and duplicates are left to the worker."""
    scorer = scorer_from_settings(settings, model)
    tagger = tagger_from_settings(settings)
    name, version = scorer.name, scorer.version
    tally = _Tally()
    with tally.timed("pending"), open_store() as store:
        queue.queue_for_model(store, name, version)
        total = queue.count_pending(store, bucket)
    count = workers or settings.sentiment.workers or os.cpu_count() or 1
    with Analyser(scorer, tagger, count if total >= PARALLEL_MIN else 1) as analyser:
        run = (name, version, batch_size or settings.sentiment.score_batch, bucket)
        stopped = _score_queue(open_store, analyser, tally, run, total, progress, stop)
    # Groups only change when scores do: with marking not owed there is nothing to regroup
    # (keeps a `koubei watch` pass with no new mentions cheap).
    excluded = 0
    if not stopped and bucket is None:
        with tally.timed("duplicates"):
            with open_store() as store:
                owed = db.marking_owed(store) is not None
            try:
                excluded = mark_duplicates(open_store, settings, stop=stop) if owed else 0
            except Stopped:
                stopped = True
    return ScoreSummary(tally.scored, tally.negatives, tally.urgent, name, version, excluded, stopped, tally.timings)


def _score_queue(
    open_store: Callable[[], Store],
    analyser: Analyser,
    tally: _Tally,
    run: tuple[str, str, int, queue.Bucket | None],
    total: int,
    progress: Callable[[int, int], None] | None,
    stop: threading.Event | None,
) -> bool:
    """Score the queue a read at a time, stored a batch at a time; whether `stop` ended it early.
    `run`: the model's name and version, the batch size, the bucket of the queue (or None).
    The workers analyse a batch while this process writes the one before: the writer, not the
    model, set the pace of a backlog (its workers were idle most of the time)."""
    name, version, batch_size, bucket = run
    waiting: tuple[list[PendingMention], Started] | None = None
    for batch in _batches(open_store, tally, batch_size, bucket, total):
        started = analyser.start(batch, stop)
        if waiting is not None and not _store_batch(open_store, tally, (name, version), waiting, total, progress):
            return True
        waiting = (batch, started)
    return waiting is not None and not _store_batch(open_store, tally, (name, version), waiting, total, progress)


def _batches(
    open_store: Callable[[], Store], tally: _Tally, batch_size: int, bucket: queue.Bucket | None, total: int
) -> Iterator[list[PendingMention]]:
    """The queue's mentions, `batch_size` at a time, read READ_SIZE (or a batch) at a time."""
    after: queue.After | None = None
    while total:
        with tally.timed("pending"), open_store() as store:
            pending, after = queue.pending_mentions(store, max(batch_size, READ_SIZE), after=after, bucket=bucket)
        if after is None:
            return
        for start in range(0, len(pending), batch_size):
            yield pending[start : start + batch_size]


def _store_batch(
    open_store: Callable[[], Store],
    tally: _Tally,
    model: tuple[str, str],
    analysed: tuple[list[PendingMention], Started],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> bool:
    """Wait for a batch's analyses and store them; False when a stop came first (nothing stored)."""
    batch, started = analysed
    with tally.timed("scoring"):
        results = started.results()
    if results is None:
        return False
    rows = score_rows(batch, results, *model)
    with tally.timed("writing"), open_store() as store:
        db.write_scores(store, *rows, scored=batch)
    tally.scored += len(batch)
    tally.negatives += sum(r.label == "neg" for r in results)
    tally.urgent += sum(r.needs_triage and r.triage.urgency >= 4 for r in results)
    if progress:
        progress(tally.scored, max(total, tally.scored))
    return True


def score_rows(
    batch: Sequence[PendingMention], results: Sequence[Analysis], name: str, version: str
) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """The (scores, aspects, triage, flags) tables of a batch, for db.write_scores; built a column
    at a time (a dict a row cost the writer about 100 us a mention, with the workers waiting on it)."""
    sources = [m.source for m in batch]
    ids = [m.native_id for m in batch]
    default_reviews = [r.default_review for r in results]
    scores = {
        "source": sources,
        "native_id": ids,
        "score": [r.score for r in results],
        "label": [r.label for r in results],
        "model": [name] * len(batch),
        "model_version": [version] * len(batch),
        "text_hash": [m.text_hash for m in batch],
    }
    aspects = [
        (source, native_id, a, p) for source, native_id, r in zip(sources, ids, results) for a, p in r.aspects.items()
    ]
    triage = [
        (
            source,
            native_id,
            r.triage.urgency,
            r.triage.motive or None,
            r.triage.reason,
            r.triage.reply,
            json.dumps({"rating_conflict": r.rating_conflict, "default_review": r.default_review}, ensure_ascii=False),
            r.triage.reading,
        )
        for source, native_id, r in zip(sources, ids, results)
        if r.needs_triage
    ]
    none = [None] * len(batch)
    flags = {
        "source": sources,
        "native_id": ids,
        "rating_conflict": [r.rating_conflict for r in results],
        "default_review": default_reviews,
        "duplicate_group": none,
        "duplicate_count": none,
        "excluded": default_reviews,
    }
    return (
        pa.Table.from_pydict(scores, schema=db.SCORE_ROW_SCHEMA),
        _columns(aspects, db.ASPECT_SCHEMA),
        _columns(triage, db.TRIAGE_SCHEMA),
        pa.Table.from_pydict(flags, schema=db.FLAG_ROW_SCHEMA),
    )


def _columns(rows: Sequence[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    """Rows of tuples (in `schema`'s column order) as a table."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    return pa.Table.from_arrays([pa.array(c, f.type) for c, f in zip(columns, schema, strict=True)], schema=schema)


# The worker processes' scorer and tagger: given at fork, never pickled.
_worker_models: tuple[Scorer, AspectTagger] | None = None


def _start_worker(scorer: Scorer, tagger: AspectTagger) -> None:
    global _worker_models
    _worker_models = (scorer, tagger)
    # A worker inherits `koubei watch`'s handlers, which only set a stop event: the pool's
    # terminate (SIGTERM) must end it, and Ctrl-C is the parent's to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _analyse_chunk(chunk: Sequence[PendingMention]) -> list[Analysis]:
    assert _worker_models is not None, "a worker started without its models"
    return analyse_rows(*_worker_models, chunk)


class Analyser:
    """Analyses batches a chunk of ANALYSE_CHUNK texts at a time, in this process or on a pool
    of forked worker processes. Chunks are the same either way and each is analysed by the
    same deterministic code, so the results equal the serial ones, in the same order."""

    def __init__(self, scorer: Scorer, tagger: AspectTagger, workers: int = 1) -> None:
        self.scorer, self.tagger, self.workers = scorer, tagger, workers
        self._pool: Pool | None = None

    def __enter__(self) -> Analyser:
        if self.workers > 1:
            context = multiprocessing.get_context("fork")  # the loaded models are shared, not pickled
            self._pool = context.Pool(self.workers, _start_worker, (self.scorer, self.tagger))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()  # a stop leaves chunks under way: nothing of theirs is kept
            self._pool.join()

    def start(self, batch: Sequence[PendingMention], stop: threading.Event | None) -> Started:
        """Start analysing `batch`: on the pool its chunks are queued now and analysed while the
        caller goes on (behind any batch started before); serially, when the results are asked for."""
        chunks = [batch[i : i + ANALYSE_CHUNK] for i in range(0, len(batch), ANALYSE_CHUNK)]
        done: Iterator[list[Analysis]]
        if self._pool is None:
            done = (analyse_rows(self.scorer, self.tagger, chunk) for chunk in chunks)
        else:
            done = self._pool.imap(_analyse_chunk, chunks)  # imap keeps chunk order
        return Started(len(chunks), done, stop)


class Started:
    """A batch under analysis: its chunks' results in order, as they come."""

    def __init__(self, chunks: int, done: Iterator[list[Analysis]], stop: threading.Event | None) -> None:
        self.chunks, self.done, self.stop = chunks, done, stop

    def results(self) -> list[Analysis] | None:
        """The batch's analyses; None when `stop` was set before the end."""
        results: list[Analysis] = []
        for _ in range(self.chunks):
            if self.stop is not None and self.stop.is_set():
                return None
            results += next(self.done)
        return results
