"""Bytes per mention in the database file, and compaction giving back what deletes freed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from koubei.context import AppContext
from koubei.pipeline import PassSummary
from koubei.records import Mention
from koubei.watch import watch
from storage import open_store, upsert_mentions
from storage.compact import FREE_SHARE, compact, compact_if_fragmented, storage_bytes

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


def _fragmented(path: Path) -> None:
    """A file with a large share of its blocks free (44 of 95): 60,000 mentions stored, 50,000 deleted
    with their queue rows and search postings. (Without the postings 22 of 95 since the queue lost
    its key's index, migration 150: under the compaction's share.)"""
    with open_store(path) as store:
        upsert_mentions(store, _mentions(60_000))
        cut = (T0 + timedelta(minutes=50_000)).replace(tzinfo=None)
        store.con.execute(
            "DELETE FROM score_queue WHERE (source, native_id) IN (SELECT source, native_id FROM mentions"
            " WHERE published_at < ?)",
            [cut],
        )
        store.con.execute(
            "DELETE FROM search_grams WHERE doc IN (SELECT doc FROM search_docs WHERE published_at < ?)", [cut]
        )
        store.con.execute("DELETE FROM search_docs WHERE published_at < ?", [cut])
        store.con.execute("DELETE FROM mentions WHERE published_at < ?", [cut])
        store.con.execute("CHECKPOINT")


def test_a_file_past_the_free_share_is_compacted_and_a_compact_one_is_left(tmp_path: Path) -> None:
    """Issue 18 item 6: free blocks were reclaimed only when a person ran an erasure or a purge."""
    path = tmp_path / "k.duckdb"
    _fragmented(path)
    before = storage_bytes(path)
    assert before.free_blocks > FREE_SHARE * before.total_blocks
    assert compact_if_fragmented(path)
    after = storage_bytes(path)
    assert after.free_blocks == 0 and after.mentions == 10_000 and after.file_bytes < before.file_bytes
    assert not compact_if_fragmented(path)
    assert storage_bytes(path) == after
    assert not compact_if_fragmented(tmp_path / "none.duckdb")


def test_watch_compacts_a_fragmented_file_without_retention(tmp_path: Path) -> None:
    """Issue 18 item 6: `koubei watch` compacts when free blocks pass the share, retention or not."""
    path = tmp_path / "w.duckdb"
    _fragmented(path)
    before = storage_bytes(path)
    config = tmp_path / "koubei.toml"
    config.write_text('[sources.shop]\nkind = "demo"\n')
    watch(
        AppContext(config_path=config, db=path),
        run_pass=lambda ctx, sources: PassSummary(),
        max_passes=1,
        log=lambda line: None,
        install_signals=False,
    )
    after = storage_bytes(path)
    assert after.mentions == 10_000 and after.free_blocks == 0 and after.file_bytes < before.file_bytes
