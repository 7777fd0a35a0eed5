"""Run collectors: store each page with its cursor, record health, isolate failures.

`collect()` is what `koubei collect`, `koubei run` and `koubei watch` call: every
configured and enabled source (or the named ones) runs in turn; a source that
fails is recorded in source_health / collect_runs with a message saying what
broke and where, and the next source runs anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from collectors.base import Collector, SourceConfig, registry
from koubei.config import Settings
from koubei.errors import (
    CollectorError, ConfigError, KoubeiError, LayoutChanged, ParseError, SourceBlocked, SourceUnavailable,
)
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
    extra: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    error_kind: str | None = None  # blocked | unavailable | layout | parse | config | storage | bug

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
    for cls, kind in ((SourceBlocked, "blocked"), (SourceUnavailable, "unavailable"), (LayoutChanged, "layout"),
                      (ParseError, "parse"), (ConfigError, "config"), (CollectorError, "source"),
                      (KoubeiError, "storage")):
        if isinstance(exc, cls):
            return kind
    return "bug"


def configured_sources(settings: Settings, include_disabled: bool = False) -> list[SourceConfig]:
    """[sources.NAME] tables; `kind` defaults to NAME, `enabled` to true.

    A top-level [collect] table gives defaults every source inherits (proxy,
    user_agent, timeouts, min_interval ...); a source's own keys win.
    """
    defaults = settings.section("collect")
    found = []
    for name, options in settings.sources.items():
        if not isinstance(options, dict):
            raise ConfigError(f"[sources.{name}] must be a table")
        if include_disabled or options.get("enabled", True):
            found.append(SourceConfig(name=name, kind=options.get("kind", name), options={**defaults, **options}))
    return found


def build_collector(config: SourceConfig, open_store: StoreFactory) -> Collector:
    classes = registry()
    if config.kind not in classes:
        raise ConfigError(f"[sources.{config.name}]: unknown kind {config.kind!r}; known: {', '.join(sorted(classes))}")
    with open_store() as store:
        cursors = get_cursors(store, config.name)
    return classes[config.kind](config, cursors)


def run_collector(collector: Collector, open_store: StoreFactory, on_page: Callable[[RunResult], None] | None = None) -> RunResult:
    """Store every page the collector yields. A failure keeps what was stored."""
    started = datetime.now(timezone.utc)
    result = RunResult(source=collector.source, kind=getattr(collector, "name", ""))
    try:
        for page in collector.pages():
            cursor = CursorUpdate(collector.source, page.cursor, page.scope) if page.cursor is not None else None
            # One short-lived connection per page: the dashboard can open the file in between.
            with open_store() as store:
                stored = upsert_mentions(store, page.mentions, cursor=cursor)
            result.pages += 1
            result.inserted += stored.inserted
            result.updated += stored.updated
            result.unchanged += stored.unchanged
            if on_page:
                on_page(result)
    except KoubeiError as exc:
        result.error, result.error_kind = str(exc), error_kind(exc)
    except Exception as exc:  # a bug in one source must not stop the others
        result.error = f"{collector.source}: unexpected {type(exc).__name__}: {exc}"
        result.error_kind = "bug"
    finished = datetime.now(timezone.utc)
    result.seconds = (finished - started).total_seconds()
    _record(open_store, result, started, finished)
    return result


def _record(open_store: StoreFactory, result: RunResult, started: datetime, finished: datetime) -> None:
    with open_store() as store:
        record_run(store, result.source, started.replace(tzinfo=None), finished.replace(tzinfo=None),
                   pages=result.pages, inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
                   error=result.error, error_kind=result.error_kind)


def collect(open_store: StoreFactory, settings: Settings, names: list[str] | None = None,
            progress: Progress | None = None) -> list[RunResult]:
    """Run every configured and enabled source, or the named ones (even if disabled).

    Failures are isolated: each source's error lands in its RunResult and in
    source health, and the next source runs. Unknown names are a ConfigError
    before anything runs.
    """
    every = {c.name: c for c in configured_sources(settings, include_disabled=True)}
    if names:
        unknown = [n for n in names if n not in every]
        if unknown:
            raise ConfigError(f"unknown source(s) {', '.join(unknown)}; configured: {', '.join(sorted(every)) or 'none'}")
        chosen = [every[n] for n in names]
    else:
        chosen = [c for c in every.values() if c.options.get("enabled", True)]
    results = []
    for config in chosen:
        result = RunResult(source=config.name, kind=config.kind)
        if progress:
            progress("start", result)
        try:
            collector = build_collector(config, open_store)
        except KoubeiError as exc:
            # A source that cannot even be built (bad config) is a failed source, not a crash.
            started = datetime.now(timezone.utc)
            result.error, result.error_kind = str(exc), error_kind(exc)
            if not result.error.startswith(config.name):
                result.error = f"{config.name}: {result.error}"
            _record(open_store, result, started, started)
        else:
            result = run_collector(collector, open_store, on_page=(lambda r: progress("page", r)) if progress else None)
            result.kind = config.kind
        if progress:
            progress("done", result)
        results.append(result)
    return results
