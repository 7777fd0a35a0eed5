"""Storage: the only package that knows the engine is DuckDB."""

from storage.cursors import get_cursor, set_cursor
from storage.db import DatabaseBusy, StorageError, Store, WriteConflict, open_store
from storage.mentions import CursorUpdate, UpsertResult, count_mentions, upsert_mentions

__all__ = [
    "CursorUpdate",
    "DatabaseBusy",
    "WriteConflict",
    "StorageError",
    "Store",
    "UpsertResult",
    "count_mentions",
    "get_cursor",
    "open_store",
    "set_cursor",
    "upsert_mentions",
]
