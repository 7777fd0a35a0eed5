"""Rollups kept at write time (issue 18, item 3): after every kind of write the increments
equal a rebuild from the rows."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from koubei.config import parse_settings
from koubei.records import Mention
from sentiment.pipeline import score_pending
from storage import Store, open_store, rollups, upsert_mentions
from storage.forget import Selector, forget, purge_expired
from storage.mentions import set_brands
from tests.sentiment.test_pipeline import COPIES, MENTIONS, NOW, TEMPLATE, mention

KOUBEI = str(Path(sys.executable).with_name("koubei"))
Snapshot = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def opener(db_path: Path) -> Callable[[], Store]:
    return lambda: open_store(db_path)


def _incremental_then_rebuilt(db_path: Path) -> tuple[Snapshot, Snapshot]:
    with open_store(db_path) as store:
        kept = rollups.snapshot(store)
        rollups.rebuild(store)
        return kept, rollups.snapshot(store)


def _assert_rebuild_equals_incremental(db_path: Path) -> Snapshot:
    kept, rebuilt = _incremental_then_rebuilt(db_path)
    assert kept == rebuilt
    return kept


def _copy(i: int, author: str) -> Mention:
    return mention(40 + i, TEMPLATE + "。" * i, author=author)


def test_rebuild_equals_increments_after_ingest_score_rescore_mark_and_forget(db_path: Path) -> None:
    english = parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_path)
    plain = parse_settings({"sentiment": {"duplicate_window_days": 0, "english": False}}, db=db_path)
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS + COPIES)
    first = _assert_rebuild_equals_incremental(db_path)
    assert sum(row[7] for row in first[0]) == len(MENTIONS + COPIES)

    score_pending(opener(db_path), english)  # scores, aspects, triage, then the copies marked
    scored = _assert_rebuild_equals_incremental(db_path)
    assert {row[4] for row in scored[0]} >= {"pos", "neg"} and any(row[6] for row in scored[0])
    assert scored[1], "the demo texts name aspects"

    with open_store(db_path) as store:  # a content change moves a mention to another hour and product
        changed = replace(mention(2, "快递一周了还没到，客服也不理人，太差了", product="P20"), published_at=NOW - timedelta(days=3))
        upsert_mentions(store, [changed])
        set_brands(store, [("test", "m3", "别家", "X1")])
    _assert_rebuild_equals_incremental(db_path)

    score_pending(opener(db_path), plain)  # a new model version rescores everything
    _assert_rebuild_equals_incremental(db_path)

    with open_store(db_path) as store:  # more copies: the group grows, marks are redone
        upsert_mentions(store, [_copy(i, f"bot{10 + i}") for i in range(3)])
    score_pending(opener(db_path), plain)
    _assert_rebuild_equals_incremental(db_path)

    forget(opener(db_path), Selector("author", "bot0"), actor="test", origin="test")
    forget(opener(db_path), Selector("mention", "test:m1"), actor="test", origin="test")
    _assert_rebuild_equals_incremental(db_path)
    purge_expired(opener(db_path), NOW, mention_days=1, raw_days=None, origin="test")
    last = _assert_rebuild_equals_incremental(db_path)
    with open_store(db_path) as store:
        left = store.query("SELECT count(*) FROM mentions")[0][0]
    assert 0 < sum(row[7] for row in last[0]) == left


def test_migration_fills_rollups_of_a_database_stored_before_them(db_path: Path) -> None:
    settings = parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_path)
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS + COPIES)
    score_pending(opener(db_path), settings)
    with open_store(db_path) as store:
        expected = rollups.snapshot(store)
        store.con.execute(
            "DROP TABLE rollup_mentions; DROP TABLE rollup_aspects; DELETE FROM schema_migrations WHERE version = 70"
        )
    with open_store(db_path) as store:
        assert rollups.snapshot(store) == expected


def test_rebuild_command_restores_rollups_that_went_wrong(db_path: Path) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS)
        expected = rollups.snapshot(store)
        store.con.execute("UPDATE rollup_mentions SET mentions = mentions + 1")
    done = subprocess.run(
        [KOUBEI, "--db", str(db_path), "rollups", "rebuild"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "rollups rebuilt" in done.stdout
    with open_store(db_path) as store:
        assert rollups.snapshot(store) == expected
