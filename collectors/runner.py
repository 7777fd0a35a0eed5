"""Run collectors: store each page with its cursor, record health, isolate failures.

`collect()` is what `koubei collect`, `koubei run` and `koubei watch` call: every
configured and enabled source (or the named ones) runs in turn; a source that
fails is recorded in source_health / collect_runs with a message saying what
broke and where, and the next source runs anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.base import Collector, Page, SourceConfig, registry
from collectors.options import BATCH_ITEMS, BATCH_SECONDS
from koubei.brands import BrandMatcher
from koubei.config import Settings
from koubei.errors import (
    CollectorError,
    ConfigError,
    KoubeiError,
    LayoutChanged,
    ParseError,
    SourceBlocked,
    SourceUnavailable,
    Stopped,
)
from koubei.settings.sections import Brand, Topic
from koubei.topics import tag_topics, topic_rules
from storage import CursorUpdate, Store, upsert_mentions
from storage.cursors import get_cursors
from storage.health import record_run

StoreFactory = Callable[[], Store]
# progress(event, result): event is "start", "page" or "done".
Progress = Callable[[str, "RunResult"], None]


@dataclass
class RunResult:
    source: str
    pages: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None
    seconds: float = 0.0
    kind: str = ""
    error_kind: str | None = None  # blocked | unavailable | layout | parse | config | storage | bug
    item_errors: int = 0  # items skipped because they did not fit the source's schema
    first_item_error: str | None = None  # what was wrong with the first of them

    @property
    def items(self) -> int:
        return self.inserted + self.updated + self.unchanged

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0


def error_kind(exc: BaseException) -> str:
    # Order matters: LayoutChanged is a ParseError.
    for cls, kind in (
        (SourceBlocked, "blocked"),
        (SourceUnavailable, "unavailable"),
        (LayoutChanged, "layout"),
        (ParseError, "parse"),
        (ConfigError, "config"),
        (CollectorError, "source"),
        (KoubeiError, "storage"),
    ):
        if isinstance(exc, cls):
            return kind
    return "bug"


def configured_sources(settings: Settings, include_disabled: bool = False) -> list[SourceConfig]:
    """The [sources.NAME] tables, read by their kinds' options (collectors/options.py)."""
    return [c for c in settings.sources.values() if include_disabled or c.options.enabled]


def build_collector(config: SourceConfig, open_store: StoreFactory) -> Collector[Any]:
    cls = registry()[config.kind]  # a configured kind: parse_source checked it
    with open_store() as store:
        cursors = get_cursors(store, config.name, cls.cursor_type)
    return cls(config, cursors)


class PageWriter:
    """Stores pages in batches: one short-lived connection and one transaction per batch.

    Opening the database, committing and the checkpoint on close cost ~20-50 ms
    plus a share per row, which dominates when a source pages fast; so
    consecutive pages of one scope are merged into one write of up to
    `max_items` mentions or `max_seconds` of waiting, whichever comes first.
    The batch is stored with the cursor of its last page, so the cursor still
    never runs ahead of stored data; a crash loses at most the unstored batch,
    which the unmoved cursor makes the rerun fetch again.
    """

    def __init__(
        self,
        source: str,
        open_store: StoreFactory,
        result: RunResult,
        max_items: int = BATCH_ITEMS,
        max_seconds: float = BATCH_SECONDS,
        on_store: Callable[[RunResult], None] | None = None,
        brands: Sequence[Brand] = (),
        topics: Sequence[Topic] = (),
    ) -> None:
        self.source, self.open_store, self.result = source, open_store, result
        self.matcher = BrandMatcher.of(brands)
        self.topics = topic_rules(topics)
        self.max_items, self.max_seconds, self.on_store = max_items, max_seconds, on_store
        self._pages: list[Page] = []
        self._items = 0
        self._since = 0.0

    def add(self, page: Page) -> None:
        self.result.item_errors += len(page.item_errors)
        if page.item_errors and self.result.first_item_error is None:
            self.result.first_item_error = str(page.item_errors[0])
        if self._pages and page.scope != self._pages[-1].scope:
            self.flush()  # one cursor per write: never mix scopes
        if not self._pages:
            self._since = time.monotonic()
        self._pages.append(page)
        self._items += len(page.mentions)
        if self._items >= self.max_items or time.monotonic() - self._since >= self.max_seconds:
            self.flush()

    def flush(self) -> None:
        if not self._pages:
            return
        pages, self._pages, self._items = self._pages, [], 0
        states = [p.cursor for p in pages if p.cursor is not None]
        cursor = CursorUpdate(self.source, states[-1], pages[-1].scope) if states else None
        # Every source's mentions get the configured brand and product their text names.
        mentions = self.matcher.tag_all(m for p in pages for m in p.mentions)
        # One short-lived connection per batch: the dashboard can open the file in between.
        with self.open_store() as store:
            stored = upsert_mentions(store, mentions, cursor=cursor)
            tag_topics(store, self.topics, mentions)
        self.result.pages += len(pages)
        self.result.inserted += stored.inserted
        self.result.updated += stored.updated
        self.result.unchanged += stored.unchanged
        if self.on_store:
            self.on_store(self.result)


def run_collector(
    collector: Collector[Any],
    open_store: StoreFactory,
    on_page: Callable[[RunResult], None] | None = None,
    stop: threading.Event | None = None,
    brands: Sequence[Brand] = (),
    topics: Sequence[Topic] = (),
) -> RunResult:
    """Store every page the collector yields. A failure keeps what was stored (and what was fetched).
    A set `stop` ends the walk after the current page, or at once while the source waits to fetch
    one (rate limit, backoff, Retry-After): what was fetched is stored with its cursor, so the
    next run goes on from there."""
    started = datetime.now(UTC)
    result = RunResult(source=collector.source, kind=getattr(collector, "name", ""))
    writer = PageWriter(
        collector.source,
        open_store,
        result,
        max_items=collector.options.batch_items,
        max_seconds=collector.options.batch_seconds,
        on_store=on_page,
        brands=brands,
        topics=topics,
    )
    if stop is not None:
        collector.stop = stop
    try:
        try:
            for page in collector.pages():
                writer.add(page)
                if collector.stop.is_set():
                    break
        except Stopped:
            pass  # stopped while waiting to fetch: what was fetched is stored below
        finally:
            writer.flush()  # pages fetched before a failure are good data: keep them
    except KoubeiError as exc:
        result.error, result.error_kind = str(exc), error_kind(exc)
    except Exception as exc:  # a bug in one source must not stop the others
        result.error = f"{collector.source}: unexpected {type(exc).__name__}: {exc}"
        result.error_kind = "bug"
    finished = datetime.now(UTC)
    result.seconds = (finished - started).total_seconds()
    _record(open_store, result, started, finished)
    return result


def _record(open_store: StoreFactory, result: RunResult, started: datetime, finished: datetime) -> None:
    with open_store() as store:
        record_run(
            store,
            result.source,
            started.replace(tzinfo=None),
            finished.replace(tzinfo=None),
            pages=result.pages,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            error=result.error,
            error_kind=result.error_kind,
            item_errors=result.item_errors,
            item_error=result.first_item_error,
        )


def collect(
    open_store: StoreFactory,
    settings: Settings,
    names: list[str] | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> list[RunResult]:
    """Run every configured and enabled source, or the named ones (even if disabled).

    Failures are isolated: each source's error lands in its RunResult and in
    source health, and the next source runs. Unknown names are a ConfigError
    before anything runs. A set `stop` ends the source running after its current
    page, and the sources after it do not start.
    """
    every = settings.sources
    if names:
        unknown = [n for n in names if n not in every]
        if unknown:
            configured = ", ".join(sorted(every)) or "none"
            raise ConfigError(f"unknown source(s) {', '.join(unknown)}; configured: {configured}")
        chosen = [every[n] for n in names]
    else:
        chosen = configured_sources(settings)
    results = []
    for config in chosen:
        if stop is not None and stop.is_set():
            break
        result = RunResult(source=config.name, kind=config.kind)
        if progress:
            progress("start", result)
        try:
            collector = build_collector(config, open_store)
        except KoubeiError as exc:
            # A source that cannot even be built (bad config) is a failed source, not a crash.
            started = datetime.now(UTC)
            result.error, result.error_kind = str(exc), error_kind(exc)
            if not result.error.startswith(config.name):
                result.error = f"{config.name}: {result.error}"
            _record(open_store, result, started, started)
        else:
            on_page = (lambda r: progress("page", r)) if progress else None
            result = run_collector(
                collector, open_store, on_page=on_page, stop=stop, brands=settings.brands, topics=settings.topics
            )
            result.kind = config.kind
        if progress:
            progress("done", result)
        results.append(result)
    return results
