"""Source health: when each source last worked, what broke when it did not, items per run.

The watch loop keeps its heartbeat here too, as a row named `koubei-<loop>`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from koubei.redaction import redact
from storage.db import Store

HEARTBEAT_PREFIX = "koubei-"  # rows that are a loop's heartbeat, not a source


@dataclass(frozen=True)
class SourceHealth:
    source: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    last_items: int | None
    status: str | None  # ok | error
    last_error_kind: str | None  # blocked | unavailable | parse | layout | config | bug
    consecutive_failures: int | None
    last_item_errors: int | None = 0  # items the last run skipped (collectors/items.py)
    last_item_error: str | None = None  # what was wrong with the first of them

    @property
    def is_heartbeat(self) -> bool:
        return self.source.startswith(HEARTBEAT_PREFIX)


@dataclass(frozen=True)
class CollectRun:
    source: str
    started_at: datetime
    finished_at: datetime
    status: str  # ok | error
    pages: int
    inserted: int
    updated: int
    unchanged: int
    error_kind: str | None
    error: str | None
    item_errors: int | None = 0
    item_error: str | None = None


KEY = ("source",)


def record_success(store: Store, source: str, items: int, at: datetime) -> None:
    store.upsert(
        "source_health",
        KEY,
        "SELECT ? AS source, ?::TIMESTAMP AS last_run_at, ?::TIMESTAMP AS last_success_at, ?::BIGINT AS last_items,"
        " 'ok' AS status, 0 AS consecutive_failures",
        "last_run_at = excluded.last_run_at, last_success_at = excluded.last_success_at,"
        " last_items = excluded.last_items, status = 'ok', consecutive_failures = 0",
        [source, at, at, items],
    )


def record_failure(store: Store, source: str, error: str, items: int, at: datetime, kind: str | None = None) -> None:
    """The error is stored redacted (koubei.redaction): a failed request names its URL and may carry a key."""
    error = redact(error)
    store.upsert(
        "source_health",
        KEY,
        "SELECT ? AS source, ?::TIMESTAMP AS last_run_at, ?::TIMESTAMP AS last_error_at, ?::VARCHAR AS last_error,"
        " ?::BIGINT AS last_items, 'error' AS status, ?::VARCHAR AS last_error_kind, 1 AS consecutive_failures",
        "last_run_at = excluded.last_run_at, last_error_at = excluded.last_error_at,"
        " last_error = excluded.last_error, last_items = excluded.last_items, status = 'error',"
        " last_error_kind = excluded.last_error_kind,"
        " consecutive_failures = coalesce(source_health.consecutive_failures, 0) + 1",
        [source, at, at, error, items, kind],
    )


def record_run(
    store: Store,
    source: str,
    started_at: datetime,
    finished_at: datetime,
    *,
    pages: int,
    inserted: int,
    updated: int,
    unchanged: int,
    error: str | None = None,
    error_kind: str | None = None,
    item_errors: int = 0,
    item_error: str | None = None,
) -> None:
    """One collect run of one source, and the health row it implies, in one transaction.
    `item_errors` items were skipped (a run with some is still ok), `item_error` the first's problem."""
    error = None if error is None else redact(error)
    item_error = None if item_error is None else redact(item_error)  # it names the page, which may be a URL
    with store.transaction():
        store.upsert(
            "collect_runs",
            ("source", "started_at"),
            "SELECT ? AS source, ?::TIMESTAMP AS started_at, ?::TIMESTAMP AS finished_at, ? AS status, ?::INTEGER AS pages,"
            " ?::BIGINT AS inserted, ?::BIGINT AS updated, ?::BIGINT AS unchanged, ?::VARCHAR AS error_kind,"
            " ?::VARCHAR AS error, ?::INTEGER AS item_errors, ?::VARCHAR AS item_error",
            None,
            [
                source,
                started_at,
                finished_at,
                "ok" if error is None else "error",
                pages,
                inserted,
                updated,
                unchanged,
                error_kind,
                error,
                item_errors,
                item_error,
            ],
        )
        items = inserted + updated + unchanged
        if error is None:
            record_success(store, source, items, finished_at)
        else:
            record_failure(store, source, error, items, finished_at, error_kind)
        store.con.execute(
            "UPDATE source_health SET last_item_errors = ?, last_item_error = ? WHERE source = ?",
            [item_errors, item_error, source],
        )


def record_heartbeat(store: Store, loop: str, at: datetime) -> None:
    """A loop's sign of life: the row `koubei-<loop>`, last run and last success at `at`."""
    store.upsert(
        "source_health",
        KEY,
        "SELECT ? AS source, ?::TIMESTAMP AS last_run_at, ?::TIMESTAMP AS last_success_at, 0::BIGINT AS last_items,"
        " 'ok' AS status, NULL::VARCHAR AS last_error",
        "last_run_at = excluded.last_run_at, last_success_at = excluded.last_success_at, status = 'ok'",
        [HEARTBEAT_PREFIX + loop, at, at],
    )


def source_health(store: Store) -> list[SourceHealth]:
    """Every source's row (and the loops' heartbeats), by name."""
    columns = ", ".join(f.name for f in fields(SourceHealth))
    return [SourceHealth(*row) for row in store.query(f"SELECT {columns} FROM source_health ORDER BY source")]


def recent_runs(store: Store, source: str | None = None, limit: int = 20) -> list[CollectRun]:
    columns = ", ".join(f.name for f in fields(CollectRun))
    rows = store.query(
        f"SELECT {columns} FROM collect_runs WHERE ? IS NULL OR source = ? ORDER BY started_at DESC LIMIT ?",
        [source, source, limit],
    )
    return [CollectRun(*row) for row in rows]
