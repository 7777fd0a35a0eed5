"""Rollups kept at write time (issue 18, item 3): after every kind of write the increments
equal a rebuild from the rows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from koubei.config import parse_settings
from koubei.records import Mention
from sentiment.pipeline import score_pending
from storage import Store, alerts_series, open_store, queries, rollups, upsert_mentions
from storage.forget import Selector, forget, purge_expired
from storage.mentions import set_brands
from tests.sentiment.test_pipeline import COPIES, MENTIONS, NOW, TEMPLATE, mention
from tests.sentiment.test_score_queue import demo_db  # noqa: F401 - the fixture scored_demo builds on

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


@pytest.mark.parametrize("by_index", [rollups.BY_INDEX, 0])  # the changed mentions' rows by index, and by semi join
def test_rebuild_equals_increments_after_ingest_score_rescore_mark_and_forget(
    db_path: Path, by_index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollups, "BY_INDEX", by_index)
    english = parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_path)
    plain = parse_settings({"sentiment": {"duplicate_window_days": 0, "english": False}}, db=db_path)
    mixed = mention(90, "手机质量很好，屏幕清晰，就是物流太慢了，等了一周")  # aspects of opposite polarity
    with open_store(db_path) as store:
        upsert_mentions(store, [*MENTIONS, *COPIES, mixed])
    first = _assert_rebuild_equals_incremental(db_path)
    assert sum(row[7] for row in first[0]) == len(MENTIONS + COPIES) + 1

    score_pending(opener(db_path), english)  # scores, aspects, triage, then the copies marked
    scored = _assert_rebuild_equals_incremental(db_path)
    assert {row[4] for row in scored[0]} >= {"pos", "neg"} and any(row[6] for row in scored[0])
    assert scored[1], "the demo texts name aspects"
    assert {row[5] for row in scored[1] if row[3:5] == ("test", "物流")} >= {"neg"}
    assert len({row[5] for row in scored[1]}) > 1, "aspects counted by their own polarity"
    assert any(row[5] != row[6] for row in scored[1]), "an aspect's polarity differs from the mention's label"

    with open_store(db_path) as store:  # a content change moves a mention to another hour and product
        changed = replace(
            mention(2, "快递一周了还没到，客服也不理人，太差了", product="P20"), published_at=NOW - timedelta(days=3)
        )
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
            "DROP TABLE rollup_mentions; DROP TABLE rollup_aspects;"
            " DELETE FROM schema_migrations WHERE version IN (70, 162)"
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


@pytest.fixture(scope="module")
def scored_demo(demo_db: Path) -> Path:  # noqa: F811 - the fixture imported above
    """Three days of demo mentions (tests/sentiment/test_score_queue.py's), scored."""
    db_file = demo_db.with_name("scored.duckdb")
    shutil.copy(demo_db, db_file)
    score_pending(opener(db_file), parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_file))
    return db_file


# What the readers answered from the rows before the rollups: the references they must equal.
RAW_KPIS = (
    "SELECT count(*), count(s.score), count(*) FILTER (WHERE s.label = 'neg'), avg(s.score)"
    " FROM trusted_mentions m LEFT JOIN sentiment s USING (source, native_id)"
    " WHERE m.published_at >= ? AND m.published_at < ? AND (? IS NULL OR m.brand = ?)"
)
RAW_BUCKETS = (
    "SELECT coalesce(m.brand, '') AS brand, {value} AS scope_value,"
    " floor(epoch(m.published_at) / {b})::BIGINT AS bucket, count(*) AS total, count(s.label) AS scored,"
    " count(*) FILTER (WHERE s.label = 'neg') AS negative"
    " FROM mentions m{join} LEFT JOIN sentiment s ON s.source = m.source AND s.native_id = m.native_id"
    " WHERE m.published_at >= ? AND m.published_at < ? AND {value} IS NOT NULL GROUP BY ALL ORDER BY 1, 2, 3"
)
WINDOWS = [  # aligned, misaligned at either end, shorter than one bucket, the whole history
    (datetime(2026, 11, 21, 0, 0), datetime(2026, 11, 22, 0, 0)),
    (datetime(2026, 11, 20, 13, 7, 31), datetime(2026, 11, 23, 2, 58, 1)),
    (datetime(2026, 11, 22, 9, 1), datetime(2026, 11, 22, 9, 4)),
    (datetime(2000, 1, 1), datetime(2030, 1, 1)),
]


@pytest.mark.parametrize(("start", "end"), WINDOWS)
def test_overview_counts_equal_the_rows(scored_demo: Path, start: datetime, end: datetime) -> None:
    with open_store(scored_demo, read_only=True) as store:
        brand = store.query("SELECT min(brand) FROM mentions")[0][0]
        for brands in ((), (brand,)):
            k = queries.kpis(store, queries.MentionFilter(start, end, brands=brands))
            one = brands[0] if brands else None
            raw = store.query(RAW_KPIS, [start, end, one, one])[0]
            assert (k.mentions, k.scored, k.negative) == raw[:3]
            assert k.avg_score == pytest.approx(raw[3]) if raw[3] is not None else k.avg_score is None
        assert k.mentions or end - start < timedelta(minutes=5)
        for tz in ("Asia/Shanghai", "UTC"):
            series = queries.volume_series(store, queries.MentionFilter(start, end), timedelta(hours=1), tz)
            assert series["mentions"].sum() == queries.kpis(store, queries.MentionFilter(start, end)).mentions


@pytest.mark.parametrize("scope_type", ["brand", "product", "source", "aspect"])
@pytest.mark.parametrize("bucket_seconds", [300, 3600, 420])
def test_detector_bucket_counts_equal_the_rows(scored_demo: Path, scope_type: str, bucket_seconds: int) -> None:
    value, join = alerts_series._scope_sql(scope_type)
    since, until = WINDOWS[1]
    with open_store(scored_demo, read_only=True) as store:
        counted = alerts_series.bucket_counts(store, scope_type, bucket_seconds, since, until)
        raw = store.frame(RAW_BUCKETS.format(value=value, join=join, b=bucket_seconds), [since, until])
        sources = alerts_series.source_buckets(store, bucket_seconds, since, until)
        raw_sources = store.frame(
            f"SELECT source, floor(epoch(published_at) / {bucket_seconds})::BIGINT AS bucket, count(*) AS total"
            " FROM mentions WHERE published_at >= ? AND published_at < ? GROUP BY ALL ORDER BY 1, 2",
            [since, until],
        )
    assert len(counted) > 10
    assert counted.astype({"scope_value": str}).values.tolist() == raw.astype({"scope_value": str}).values.tolist()
    assert sources.values.tolist() == raw_sources.values.tolist()


# The aspect rollup as migration 070 kept it (per mention's label, no polarity), counted from the rows.
RAW_ASPECT_ROLLUP = (
    "SELECT time_bucket(INTERVAL 300 SECOND, m.published_at), coalesce(m.brand, ''), coalesce(m.product, ''),"
    " m.source, a.aspect, coalesce(s.label, ''), coalesce(f.excluded, FALSE), count(*)"
    " FROM mentions m JOIN mention_aspects a USING (source, native_id)"
    " LEFT JOIN sentiment s USING (source, native_id) LEFT JOIN mention_flags f USING (source, native_id)"
    " GROUP BY ALL ORDER BY ALL"
)


def test_aspect_rollup_summed_over_polarity_is_the_count_per_label(scored_demo: Path) -> None:
    """Migration 162 splits rollup_aspects' rows by the aspect's own polarity: its readers that count
    an aspect's mentions per label (the detectors' aspect scopes) sum over polarity and must get the
    counts of the rollup before it, with no mention counted twice."""
    with open_store(scored_demo, read_only=True) as store:
        summed = store.query(
            "SELECT bucket, brand, product, source, aspect, label, excluded, sum(mentions)::BIGINT"
            " FROM rollup_aspects GROUP BY ALL ORDER BY ALL"
        )
        split = store.query(
            "SELECT count(*) FROM (SELECT count(*) AS n FROM rollup_aspects"
            " GROUP BY bucket, brand, product, source, aspect, label, excluded HAVING n > 1)"
        )[0][0]
        raw = store.query(RAW_ASPECT_ROLLUP)
    assert split > 0, "some combination holds two polarities"
    assert summed == raw


def test_a_change_to_a_few_mentions_reads_their_scores_by_index(db_path: Path, tmp_path: Path) -> None:
    """Bug: a change to a few mentions (copies whose exclusion flips as a group grows, a rescore)
    took their rollup contributions out and back in by semi joins that read sentiment, triage and
    mention_aspects whole: 2.8 s a state read and 1.2 s an aspect merge at 10M mentions, twice
    each, 8 s of a 10k pass's duplicate marking (load 9). Up to BY_INDEX keys their rows are
    looked up through the native_id indexes; the rollups still equal a rebuild."""
    from tests.alerts.test_facts_reads import scans_of

    with open_store(db_path) as store:
        upsert_mentions(store, [*MENTIONS, *COPIES])
    score_pending(opener(db_path), parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_path))
    with open_store(db_path) as store:
        store.con.execute("CREATE TEMP TABLE few AS SELECT source, native_id FROM mention_aspects ORDER BY ALL LIMIT 3")
        keys = "SELECT source, native_id FROM few"
        for table in ("sentiment", "triage", "mention_aspects"):
            scans, profiled = scans_of(store, tmp_path, table)
            with rollups.changing(profiled, keys):
                profiled.con.execute(
                    f"UPDATE mention_flags SET excluded = NOT excluded WHERE (source, native_id) IN ({keys})"
                )
            assert scans == {"Index Scan"}, (table, scans)
            store.con = profiled.con._con  # type: ignore[attr-defined]
    _assert_rebuild_equals_incremental(db_path)
