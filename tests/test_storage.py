"""Storage: migrations on open, idempotent merge, cursors, all-or-nothing batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from koubei.records import Mention
from storage import CursorUpdate, count_mentions, get_cursor, open_store, upsert_mentions
from storage.db import StorageError, Store, migration_files

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(any_store: Store) -> Store:
    """These tests run on both backends (tests/conftest.py any_store)."""
    return any_store


def mention(native_id: str, text: str = "物流很快", **kw: object) -> Mention:
    return Mention(source="test", native_id=native_id, text=text, published_at=T0, author="张三", **kw)  # type: ignore[arg-type]


def test_migrations_apply_once_and_in_order(db_path: Path) -> None:
    with open_store(db_path) as store:
        first = store.query("SELECT version FROM schema_migrations ORDER BY version")
    with open_store(db_path) as store:
        second = store.query("SELECT version FROM schema_migrations ORDER BY version")
    assert first == second == [(v,) for v, _, _ in migration_files()]


def test_ingesting_a_batch_twice_leaves_one_row_per_mention(store) -> None:
    batch = [mention(str(i)) for i in range(50)]
    assert upsert_mentions(store, batch).inserted == 50
    again = upsert_mentions(store, batch)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 50)
    assert count_mentions(store) == 50


def test_a_changed_mention_updates_in_place_and_keeps_first_sighting(store) -> None:
    upsert_mentions(store, [mention("1", likes=1)], now=T0)
    result = upsert_mentions(store, [mention("1", likes=9)], now=T0 + timedelta(hours=1))
    assert (result.inserted, result.updated) == (0, 1)
    rows = store.query("SELECT likes, collected_at, updated_at FROM mentions")
    assert rows == [(9, T0.replace(tzinfo=None), (T0 + timedelta(hours=1)).replace(tzinfo=None))]


def test_duplicate_keys_inside_one_batch_keep_the_last(store) -> None:
    upsert_mentions(store, [mention("1", text="旧"), mention("1", text="新")])
    assert store.query("SELECT text FROM mentions") == [("新",)]


def test_author_is_stored_only_as_a_hash(store) -> None:
    upsert_mentions(store, [mention("1")])
    (author_hash,) = store.query("SELECT author_hash FROM mentions")[0]
    assert author_hash and "张三" not in author_hash
    assert "张三" not in str(store.query("SELECT * EXCLUDE (raw) FROM mentions"))


def test_cursor_is_saved_with_its_batch_and_not_without_it(store, monkeypatch) -> None:
    upsert_mentions(store, [mention("1")], cursor=CursorUpdate("test", {"page": 3}))
    assert get_cursor(store, "test") == {"page": 3}

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed between the rows and the cursor")

    monkeypatch.setattr("storage.mentions.set_cursor", crash)
    with pytest.raises(RuntimeError):
        upsert_mentions(store, [mention("2"), mention("3")], cursor=CursorUpdate("test", {"page": 4}))
    monkeypatch.undo()
    assert get_cursor(store, "test") == {"page": 3}
    assert count_mentions(store) == 1, "a batch whose cursor was not saved must not stay half-written"


def test_read_only_open_of_a_missing_database_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="koubei run"):
        open_store(tmp_path / "absent.duckdb", read_only=True)


def test_naive_published_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Mention(source="s", native_id="1", text="x", published_at=datetime(2026, 1, 1))
