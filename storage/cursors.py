"""Incremental collection cursors (dlt's `incremental`), kept in the database.

A cursor advances only after the batch it covers is stored, so a crash can
repeat work (the merge absorbs it) but never skip it.
"""

from __future__ import annotations

import json
from typing import Any

from storage.db import Store


def get_cursor(store: Store, source: str, scope: str = "") -> dict[str, Any] | None:
    rows = store.query("SELECT state FROM cursors WHERE source = ? AND scope = ?", [source, scope])
    return json.loads(rows[0][0]) if rows else None


def set_cursor(store: Store, source: str, state: dict[str, Any], scope: str = "") -> None:
    store.con.execute(
        "INSERT INTO cursors VALUES (?, ?, ?, now()::TIMESTAMP)"
        " ON CONFLICT (source, scope) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        [source, scope, json.dumps(state, ensure_ascii=False, default=str)],
    )


def get_cursors(store: Store, source: str) -> dict[str, dict[str, Any]]:
    """Every scope's cursor of a source."""
    rows = store.query("SELECT scope, state FROM cursors WHERE source = ?", [source])
    return {scope: json.loads(state) for scope, state in rows}
