"""Migration 011 rebuilds mentions with raw compressed by zstd: an existing database keeps every
row, its key, its index and the views over it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from koubei.records import Mention
from storage import Store, open_store, upsert_mentions
from storage.db import migration_files

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _database_before_011(path: Path) -> None:
    """A database as a koubei without migration 011 left it, with mentions in it."""
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL)"
    )
    for version, name, sql in migration_files():
        if version != 11:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [version, name])
    con.execute(
        "INSERT INTO mentions (source, native_id, text, published_at, collected_at, updated_at,"
        " content_hash, raw) VALUES ('jd', '1', '好评', ?, ?, ?, 'h', '{\"id\": 1, \"颜色\": \"红\"}')",
        [T0.replace(tzinfo=None)] * 3,
    )
    con.close()


def test_an_existing_database_keeps_its_mentions_key_index_and_views(db_path: Path) -> None:
    _database_before_011(db_path)
    with open_store(db_path) as store:
        assert store.query("SELECT native_id, text, raw FROM mentions") == [("1", "好评", '{"id": 1, "颜色": "红"}')]
        assert store.query("SELECT count(*) FROM trusted_mentions") == [(1,)]
        assert store.query("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'mentions'") == [
            ("mentions_published",)
        ]
        with pytest.raises(duckdb.ConstraintException):  # the primary key survived the rebuild
            store.con.execute("INSERT INTO mentions SELECT * FROM mentions")
        assert upsert_mentions(store, [Mention("jd", "1", "好评", T0), Mention("jd", "2", "差评", T0)]).inserted == 1


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """The single file only: a column's compression is the file's (the lake writes Parquet)."""
    with open_store(db_path) as opened:
        yield opened


def test_raw_is_written_with_zstd_and_reads_back(store: Store) -> None:
    upsert_mentions(store, [Mention("jd", str(i), "好评", T0, raw={"id": i, "名": "x" * 50}) for i in range(2000)])
    store.con.execute("CHECKPOINT")
    kinds = {
        row[0]
        for row in store.query(
            "SELECT DISTINCT compression FROM pragma_storage_info('mentions') WHERE column_name = 'raw'"
            " AND segment_type = 'JSON'"
        )
    }
    assert kinds == {"ZSTD"}
    assert json.loads(store.query("SELECT raw FROM mentions WHERE native_id = '7'")[0][0]) == {"id": 7, "名": "x" * 50}
