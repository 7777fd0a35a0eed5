"""Incremental collection cursors (dlt's `incremental`), kept in the database.

A cursor advances only after the batch it covers is stored, so a crash can
repeat work (the merge absorbs it) but never skip it.

A cursor is a typed record, stored as JSON in `cursors.state`: `Cursor` for the
sources that page newest first (the walk in collectors/paging.py), or a source's own
record (the demo source's). Records read JSON written by earlier versions: a
field they lack is ignored, a field it lacks takes the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar, overload

import msgspec

from storage.db import StorageError, Store

Record = TypeVar("Record", bound=msgspec.Struct)
CursorState = msgspec.Struct | Mapping[str, Any]  # a record, or a plain JSON object


class Gap(msgspec.Struct, frozen=True):
    """Where a walk stopped by max_pages before reaching what the run before had stored."""

    token: int | str  # the page token the walk goes on from
    after: datetime  # newest item stored before the capped run ...
    after_ids: tuple[str, ...]  # ... and the ids at that time
    before: datetime  # oldest item the capped run reached


class Cursor(msgspec.Struct, frozen=True, omit_defaults=True):
    """The state of one target's walk (a SKU, a keyword, a feed)."""

    newest: datetime | None = None  # high-water mark: the newest item of the last finished walk
    newest_ids: tuple[str, ...] = ()  # the ids at that time
    gaps: tuple[Gap, ...] = ()  # newest first
    last_run_pages: int | None = None  # informative: pages the last finished walk read
    in_progress_page: int | None = None  # informative: a walk stored this page and has not finished


def _decode(state: str, source: str, scope: str, record: type[Record] | None) -> Any:
    if record is None:
        return msgspec.json.decode(state)
    try:
        return msgspec.json.decode(state, type=record)
    except msgspec.ValidationError as exc:
        raise StorageError(f"the cursor of {source} (scope {scope!r}) is not a {record.__name__}: {exc}") from exc


@overload
def get_cursor(store: Store, source: str, scope: str = "") -> dict[str, Any] | None: ...
@overload
def get_cursor(store: Store, source: str, scope: str = "", *, record: type[Record]) -> Record | None: ...
def get_cursor(store: Store, source: str, scope: str = "", *, record: type[Record] | None = None) -> Any:
    """One scope's cursor: as `record`, or as the JSON object stored."""
    rows = store.query("SELECT state FROM cursors WHERE source = ? AND scope = ?", [source, scope])
    return _decode(rows[0][0], source, scope, record) if rows else None


def get_cursors(store: Store, source: str, record: type[Record]) -> dict[str, Record]:
    """Every scope's cursor of a source."""
    rows = store.query("SELECT scope, state FROM cursors WHERE source = ?", [source])
    return {scope: _decode(state, source, scope, record) for scope, state in rows}


def set_cursor(store: Store, source: str, state: CursorState, scope: str = "") -> None:
    store.upsert(
        "cursors",
        ("source", "scope"),
        "SELECT ? AS source, ? AS scope, ?::JSON AS state, now()::TIMESTAMP AS updated_at",
        "state = excluded.state, updated_at = excluded.updated_at",
        [source, scope, msgspec.json.encode(state).decode()],
    )
