"""One pass of the whole loop: collect -> store -> score -> detect -> alert.

`koubei run` does one pass over the configured sources; `koubei seed` (what
`make run` calls) fills an empty database from the demo source first; `koubei
watch` (koubei/watch.py) repeats passes on each source's interval. A pass opens
the database once and its steps share that connection (storage/held.py); the
dashboard's reads wait for the pass. Once the context's `stop` is set, a step ends at its next safe point (between
pages, scoring chunks, sends) and the steps after it are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from koubei.context import AppContext

if TYPE_CHECKING:  # each step's module is imported when the step runs: the CLI starts fast
    from alerts.delivery import DeliverSummary
    from alerts.detect import DetectSummary
    from collectors.runner import RunResult
    from sentiment.pipeline import ScoreSummary
    from storage import Store

console = Console(stderr=True)


@dataclass
class PassSummary:
    collected: list[RunResult] = field(default_factory=list)
    scored: ScoreSummary | None = None
    detected: DetectSummary | None = None
    delivered: DeliverSummary | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, in the order they ran

    @property
    def new_mentions(self) -> int:
        return sum(r.inserted for r in self.collected)

    @property
    def failed_sources(self) -> list[str]:
        return [r.source for r in self.collected if not r.ok]

    def line(self) -> str:
        parts = [f"{self.new_mentions} new mentions from {len(self.collected)} source(s)"]
        if self.failed_sources:
            parts.append(f"{len(self.failed_sources)} failed ({', '.join(self.failed_sources)})")
        if self.scored is not None:
            parts.append(f"{self.scored.scored} scored")
        if self.detected is not None:
            parts.append(f"{self.detected.opened} incidents opened")
        if self.delivered is not None:
            parts.append(f"{self.delivered.sent} alerts sent")
        return ", ".join(parts) + f" in {self.seconds:.1f}s"

    def timings_line(self) -> str:
        """Seconds per stage: collect, the scoring stages (finding pending work, scoring,
        writing, duplicate marking), detect, deliver, and "sort index" when the pass sorted the
        full-text index's tail."""
        stages = {k: v for k, v in self.timings.items() if k == "collect"}
        stages.update(self.scored.timings if self.scored is not None else {})
        stages.update({k: v for k, v in self.timings.items() if k != "collect"})
        return ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in stages.items())


@contextmanager
def _timed(summary: PassSummary, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        summary.timings[stage] = time.perf_counter() - started


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def score_step(ctx: AppContext, open_store: Callable[[], Store] | None = None) -> ScoreSummary:
    from sentiment.pipeline import score_pending

    with _progress() as bar:
        task = bar.add_task("scoring", total=None)
        return score_pending(
            open_store or ctx.open_store,
            ctx.settings,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            stop=ctx.stop,
        )


def _detect_and_deliver(
    ctx: AppContext, summary: PassSummary, deliver: bool = True, open_store: Callable[[], Store] | None = None
) -> None:
    from alerts.delivery import deliver_alerts
    from alerts.detect import detect_incidents

    opener = open_store or ctx.open_store
    with _timed(summary, "detect"):
        summary.detected = detect_incidents(opener, ctx.settings, stop=ctx.stop)
    if deliver:
        with _timed(summary, "deliver"):
            summary.delivered = deliver_alerts(opener, ctx.settings, stop=ctx.stop)


def sort_index_step(summary: PassSummary, open_store: Callable[[], Store]) -> None:
    """Sort the full-text index's unsorted tail once it holds TAIL_DOCS docs (storage/textindex.py):
    last, after the alerts went out; a store that collects keeps its searches fast with no
    `koubei rebuild-index`. Timed as "sort index" only when it sorted."""
    from storage.textindex import TAIL_DOCS, sort_postings_tail

    started = time.perf_counter()
    with open_store() as store:
        sorted_postings = sort_postings_tail(store, at_least=TAIL_DOCS)
    if sorted_postings:
        summary.timings["sort index"] = time.perf_counter() - started


def run_once(ctx: AppContext, sources: list[str] | None = None, deliver: bool = True) -> PassSummary:
    """Collect the named (or all enabled) sources, then score, detect and alert: one open of
    the database for the whole pass."""
    from collectors.runner import collect
    from storage.held import held

    started = time.perf_counter()
    summary = PassSummary()
    with held(ctx.open_store) as open_store:
        with _timed(summary, "collect"):
            summary.collected = collect(open_store, ctx.settings, sources, stop=ctx.stop)
        if summary.new_mentions:  # new mentions may move incidents: their keywords need jieba
            from sentiment.keywords import warm_in_background

            warm_in_background()
        if not ctx.stop.is_set():
            summary.scored = score_step(ctx, open_store)
        if not ctx.stop.is_set():  # stopped: the next pass detects, over everything scored by then
            _detect_and_deliver(ctx, summary, deliver, open_store)
        if not ctx.stop.is_set():
            sort_index_step(summary, open_store)
    summary.seconds = time.perf_counter() - started
    return summary


def seed(ctx: AppContext) -> PassSummary:
    """Fill an empty database from the demo source, then score and detect."""
    from collectors.base import SourceConfig
    from collectors.runner import run_collector
    from collectors.sources.demo import DemoCollector, DemoOptions
    from storage import count_mentions

    started = time.perf_counter()
    summary = PassSummary()
    with ctx.open_store() as store:
        empty = count_mentions(store) == 0
    if empty:
        demo = ctx.settings.sources.get("demo")
        config = demo if demo and isinstance(demo.options, DemoOptions) else SourceConfig("demo", "demo", DemoOptions())
        with _progress() as bar:
            task = bar.add_task("demo data", total=None)
            result = run_collector(
                DemoCollector(config),
                ctx.open_store,
                on_page=lambda r: bar.update(task, completed=r.pages),
                brands=ctx.settings.brands,
                topics=ctx.settings.topics,
            )
        summary.collected = [result]
    summary.scored = score_step(ctx)
    _detect_and_deliver(ctx, summary)
    summary.seconds = time.perf_counter() - started
    return summary
