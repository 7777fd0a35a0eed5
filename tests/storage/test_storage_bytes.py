"""Bytes per mention in the database file, and compaction giving back what deletes freed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from koubei.records import Mention
from storage import open_store, upsert_mentions
from storage.compact import compact, storage_bytes

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _mentions(count: int) -> list[Mention]:
    return [
        Mention(
            "shop",
            f"m{i}",
            f"第{i}条评论：电池续航{i % 7}小时，客服回复{'很快' if i % 2 else '太慢'}",
            T0 + timedelta(minutes=i),
        )
        for i in range(count)
    ]


def test_bytes_per_mention_count_the_file_and_the_texts(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    mentions = _mentions(20_000)
    with open_store(path) as store:
        upsert_mentions(store, mentions)
    spent = storage_bytes(path)
    assert spent.mentions == 20_000
    assert spent.text_bytes == sum(len(m.text.encode()) for m in mentions)
    assert spent.file_bytes == path.stat().st_size
    assert spent.per_mention() == spent.file_bytes / 20_000
    assert spent.per_mention(with_text=False) == (spent.file_bytes - spent.text_bytes) / 20_000


def test_compaction_gives_back_the_blocks_deletes_freed(tmp_path: Path) -> None:
    """Issue 18 item 6: deleted rows' blocks stay in the file (marked free) until it is compacted."""
    path = tmp_path / "k.duckdb"
    with open_store(path) as store:
        upsert_mentions(store, _mentions(60_000))
        store.con.execute(
            "DELETE FROM mentions WHERE published_at < ?", [(T0 + timedelta(minutes=50_000)).replace(tzinfo=None)]
        )
        store.con.execute("CHECKPOINT")
    before = storage_bytes(path)
    compact(path)
    after = storage_bytes(path)
    assert before.mentions == after.mentions == 10_000
    assert before.free_blocks > 0 and after.free_blocks == 0
    assert after.total_blocks <= before.total_blocks - before.free_blocks
    assert after.file_bytes < before.file_bytes
