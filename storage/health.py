"""Source health: when each source last worked, and what broke when it did not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Store


def record_success(store: Store, source: str, items: int, at: datetime) -> None:
    store.con.execute(
        "INSERT INTO source_health (source, last_run_at, last_success_at, last_items, status)"
        " VALUES (?, ?, ?, ?, 'ok') ON CONFLICT (source) DO UPDATE SET"
        " last_run_at = excluded.last_run_at, last_success_at = excluded.last_success_at,"
        " last_items = excluded.last_items, status = 'ok'",
        [source, at, at, items],
    )


def record_failure(store: Store, source: str, error: str, items: int, at: datetime) -> None:
    store.con.execute(
        "INSERT INTO source_health (source, last_run_at, last_error_at, last_error, last_items, status)"
        " VALUES (?, ?, ?, ?, ?, 'error') ON CONFLICT (source) DO UPDATE SET"
        " last_run_at = excluded.last_run_at, last_error_at = excluded.last_error_at,"
        " last_error = excluded.last_error, last_items = excluded.last_items, status = 'error'",
        [source, at, at, error, items],
    )


def source_health(store: Store) -> list[dict[str, Any]]:
    cur = store.con.execute("SELECT * FROM source_health ORDER BY source")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
