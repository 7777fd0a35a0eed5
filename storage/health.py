"""Source health: when each source last worked, what broke when it did not, items per run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Store


def record_success(store: Store, source: str, items: int, at: datetime) -> None:
    store.con.execute(
        "INSERT INTO source_health (source, last_run_at, last_success_at, last_items, status, consecutive_failures)"
        " VALUES (?, ?, ?, ?, 'ok', 0) ON CONFLICT (source) DO UPDATE SET"
        " last_run_at = excluded.last_run_at, last_success_at = excluded.last_success_at,"
        " last_items = excluded.last_items, status = 'ok', consecutive_failures = 0",
        [source, at, at, items],
    )


def record_failure(store: Store, source: str, error: str, items: int, at: datetime, kind: str | None = None) -> None:
    store.con.execute(
        "INSERT INTO source_health (source, last_run_at, last_error_at, last_error, last_items, status,"
        " last_error_kind, consecutive_failures)"
        " VALUES (?, ?, ?, ?, ?, 'error', ?, 1) ON CONFLICT (source) DO UPDATE SET"
        " last_run_at = excluded.last_run_at, last_error_at = excluded.last_error_at,"
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
) -> None:
    """One collect run of one source, and the health row it implies, in one transaction."""
    with store.transaction():
        store.con.execute(
            "INSERT INTO collect_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
            ],
        )
        items = inserted + updated + unchanged
        if error is None:
            record_success(store, source, items, finished_at)
        else:
            record_failure(store, source, error, items, finished_at, error_kind)


def source_health(store: Store) -> list[dict[str, Any]]:
    cur = store.con.execute("SELECT * FROM source_health ORDER BY source")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def recent_runs(store: Store, source: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    cur = store.con.execute(
        "SELECT * FROM collect_runs WHERE ? IS NULL OR source = ? ORDER BY started_at DESC LIMIT ?",
        [source, source, limit],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
