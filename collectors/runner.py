"""Run collectors: store each page with its cursor, record health, isolate failures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from collectors.base import Collector, SourceConfig, registry
from koubei.config import Settings
from koubei.errors import ConfigError, KoubeiError
from storage import CursorUpdate, Store, upsert_mentions
from storage.cursors import get_cursor
from storage.health import record_failure, record_success

StoreFactory = Callable[[], Store]


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

    @property
    def items(self) -> int:
        return self.inserted + self.updated + self.unchanged

    @property
    def ok(self) -> bool:
        return self.error is None


def configured_sources(settings: Settings) -> list[SourceConfig]:
    """[sources.NAME] tables; `kind` defaults to NAME, `enabled` to true."""
    found = []
    for name, options in settings.sources.items():
        if not isinstance(options, dict):
            raise ConfigError(f"[sources.{name}] must be a table")
        if options.get("enabled", True):
            found.append(SourceConfig(name=name, kind=options.get("kind", name), options=options))
    return found


def build_collector(config: SourceConfig, open_store: StoreFactory) -> Collector:
    classes = registry()
    if config.kind not in classes:
        raise ConfigError(f"[sources.{config.name}]: unknown kind {config.kind!r}; known: {', '.join(sorted(classes))}")
    with open_store() as store:
        cursors = {
            scope: state
            for scope in config.options.get("scopes", [""]) or [""]
            if (state := get_cursor(store, config.name, scope)) is not None
        }
        if "" not in cursors and (state := get_cursor(store, config.name, "")) is not None:
            cursors[""] = state
    return classes[config.kind](config, cursors)


def run_collector(collector: Collector, open_store: StoreFactory, on_page: Callable[[RunResult], None] | None = None) -> RunResult:
    """Store every page the collector yields. A failure keeps what was stored."""
    started = datetime.now(timezone.utc)
    result = RunResult(source=collector.source)
    try:
        for page in collector.pages():
            cursor = CursorUpdate(collector.source, page.cursor, page.scope) if page.cursor is not None else None
            with open_store() as store:
                stored = upsert_mentions(store, page.mentions, cursor=cursor)
            result.pages += 1
            result.inserted += stored.inserted
            result.updated += stored.updated
            result.unchanged += stored.unchanged
            if on_page:
                on_page(result)
    except KoubeiError as exc:
        result.error = str(exc)
    except Exception as exc:  # a bug in one source must not stop the others
        result.error = f"{collector.source}: unexpected {type(exc).__name__}: {exc}"
    finished = datetime.now(timezone.utc)
    result.seconds = (finished - started).total_seconds()
    with open_store() as store:
        stamp = finished.replace(tzinfo=None)
        if result.ok:
            record_success(store, collector.source, result.items, stamp)
        else:
            record_failure(store, collector.source, result.error or "", result.items, stamp)
    return result
