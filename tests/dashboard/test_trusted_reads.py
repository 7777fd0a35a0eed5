"""Reads of `trusted_mentions` (the overview's latest negatives, the topics page's texts) take from
mention_flags only the flags that exclude, not every mention's flag row (migration 161)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from koubei.config import parse_settings
from sentiment.pipeline import score_pending
from storage import open_store, queries, upsert_mentions
from storage.topics import period_texts
from tests.dashboard.test_overview_reads import rows_read
from tests.sentiment.test_pipeline import COPIES, MENTIONS, NOW


def test_trusted_mentions_read_only_the_excluding_flags(db_path: Path) -> None:
    """Bug: the view joined every mention to its flag row, so each read of it scanned the whole
    mention_flags table (every stored mention's row) however narrow its window: at 1M mentions the
    overview's latest negatives read 968,636 flag rows for 50 mentions, the topics page 1.9M."""
    settings = parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_path)
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS + COPIES)
    score_pending(lambda: open_store(db_path), settings)
    with open_store(db_path) as store:
        flags, excluded = store.query("SELECT count(*), count(*) FILTER (WHERE excluded) FROM mention_flags")[0]
        assert 0 < excluded < flags
        trusted = store.query(
            "SELECT m.native_id FROM mentions m LEFT JOIN mention_flags f USING (source, native_id)"
            " WHERE NOT coalesce(f.excluded, FALSE) ORDER BY 1"
        )
        assert store.query("SELECT native_id FROM trusted_mentions ORDER BY 1") == trusted
        f = queries.MentionFilter(
            NOW.replace(tzinfo=None) - timedelta(days=30), NOW.replace(tzinfo=None) + timedelta(1)
        )
        for read in (lambda: queries.latest_negative(store, f), lambda: period_texts(store, f, 100)):
            assert rows_read(store, db_path.parent, read, table="mention_flags") <= excluded
