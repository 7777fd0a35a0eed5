"""What the overview's and the incident page's reads take from the store: whole rows (with their texts) only for what is
shown, so a first render and a filter change cost what the window holds, not what it spans
(issue 18 part 3; benchmarks/bench_render.py measures it in the browser).

Measured with DuckDB's own profile of the query: how many rows each scan of `mentions` that reads
the text column emitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from koubei.records import Mention
from storage import Store, open_store, queries, upsert_mentions
from storage.compare import brand_series, channel_shares
from storage.incidents import incidents_where
from storage.reports import count_export_mentions
from storage.sentiment import write_scores

END = datetime(2026, 11, 20)
WINDOW = 3000  # mentions in the 14-day window
NEGATIVE_EVERY = 10


def published(i: int) -> datetime:
    return END - timedelta(seconds=i * 14 * 86400 // WINDOW + 1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    mentions = [
        Mention(
            source="demo.weibo",
            native_id=str(i),
            text=f"第{i}条 电池发热 客服不理人",
            published_at=published(i).replace(tzinfo=UTC),
            brand="声浪",
            product="声浪X1耳机",
            url=f"https://example.com/{i}",
        )
        for i in range(WINDOW)
    ]
    scores = [
        {
            "source": "demo.weibo",
            "native_id": str(i),
            "score": 0.1 if i % NEGATIVE_EVERY == 0 else 0.8,
            "label": "neg" if i % NEGATIVE_EVERY == 0 else "pos",
            "model": "test",
            "model_version": "1",
            "text_hash": "-",
        }
        for i in range(WINDOW)
    ]
    with open_store(tmp_path / "reads.duckdb") as opened:
        upsert_mentions(opened, mentions)
        write_scores(opened, scores, [], [], [])
        yield opened


def rows_read(
    store: Store, tmp_path: Path, read: Callable[[], Any], column: str | None = None, table: str = "mentions"
) -> int:
    """Rows emitted by the scans of `table` (that read `column`, if given) while `read` ran, summed over
    every query it sent through `store.query` or `store.frame` (each query's profile replaces the last)."""
    out = tmp_path / "profile.json"
    store.con.execute("SET enable_profiling = 'json'")
    store.con.execute(f"SET profiling_output = '{out}'")
    total = 0

    def profiled(send: Callable[..., Any]) -> Callable[..., Any]:
        def sent(*args: Any) -> Any:
            nonlocal total
            result = send(*args)
            total += scanned(json.loads(out.read_text()), table, column)
            return result

        return sent

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "query", profiled(store.query))
        patch.setattr(store, "frame", profiled(store.frame))
        try:
            read()
        finally:
            store.con.execute("PRAGMA disable_profiling")
    return total


def scanned(tree: dict[str, Any], table: str, column: str | None) -> int:
    """Rows the scans of `table` (that read `column`, if given) emitted in one query's profile."""

    def scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        info = node.get("extra_info") or {}
        if node.get("operator_type") == "TABLE_SCAN" and str(info.get("Table", "")).endswith(f".{table}"):
            yield node
        for child in node.get("children", []):
            yield from scans(child)

    found = [n for n in scans(tree) if column is None or column in n["extra_info"].get("Projections", [])]
    return sum(int(n["operator_cardinality"]) for n in found)


def test_latest_negative_reads_whole_rows_of_the_shown_mentions_only(store: Store, tmp_path: Path) -> None:
    """Bug: latest_negative sorted every joined row of the window with its text to keep 50 (at 1M
    mentions 0.65-1.1 s of the overview's first render, against 34 ms keys first)."""
    f = queries.MentionFilter(END - timedelta(days=14), END)
    frame = queries.latest_negative(store, f, limit=50)
    assert len(frame) == 50
    assert frame["published_at"].is_monotonic_decreasing
    assert all(s == 0.1 for s in frame["score"])
    # Whole rows of the newest negatives' time span only (one in NEGATIVE_EVERY is negative), not the window's.
    read = rows_read(store, tmp_path, lambda: queries.latest_negative(store, f, limit=50), "text")
    assert read <= 50 * NEGATIVE_EVERY < WINDOW


def test_latest_negative_looks_up_the_scores_of_the_newest_keys_only(store: Store, tmp_path: Path) -> None:
    """Bug: latest_negative joined the window to every negative score of the store (sentiment keeps no
    time: 3.78M scores read for 50 rows, 1.1-3.1 s at 10M mentions); it reads the window's newest keys
    and looks their scores up by key, so the scores read follow the rows shown, not the store."""
    f = queries.MentionFilter(END - timedelta(days=14), END)
    frame = queries.latest_negative(store, f, limit=5)
    assert len(frame) == 5 and all(s == 0.1 for s in frame["score"])
    assert list(frame["text"]) == [f"第{i}条 电池发热 客服不理人" for i in range(0, 5 * NEGATIVE_EVERY, NEGATIVE_EVERY)]
    read = rows_read(store, tmp_path, lambda: queries.latest_negative(store, f, limit=5), table="sentiment")
    assert 0 < read <= queries.NEWEST_KEYS < WINDOW // NEGATIVE_EVERY


def test_latest_negative_of_a_filter_with_few_negatives_reads_the_rest_by_a_join(store: Store) -> None:
    """Past FALLBACK_KEYS keys without enough negatives the rest of the window is joined to the scores:
    the same rows as the lookups would find."""
    f = queries.MentionFilter(END - timedelta(days=14), END)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queries, "NEWEST_KEYS", 7)
        patch.setattr(queries, "FALLBACK_KEYS", 14)
        few = queries.latest_negative(store, f, limit=20)
    assert few.equals(queries.latest_negative(store, f, limit=20))
    assert len(few) == 20 and few["published_at"].is_monotonic_decreasing


@pytest.mark.parametrize("limit", [1, 5, 50])
def test_latest_negative_leaves_out_what_the_trust_checks_excluded_as_trusted_mentions_does(
    store: Store, limit: int
) -> None:
    """Bug: the newest keys were read through trusted_mentions, whose anti join made each page of 150 keys
    cost 0.6-1.0 s at 10M mentions with a brand picked (6-23 ms from mentions); the excluded among a page
    are now looked up after. The rows shown are the view's, every excluded one left out, also across pages."""
    negatives = [i for i in range(WINDOW) if i % NEGATIVE_EVERY == 0]
    excluded = negatives[::3] + [1, 2, 3]  # among them the newest negative, and positives
    store.con.execute(
        "INSERT INTO mention_flags (source, native_id, excluded, flagged_at)"
        " SELECT 'demo.weibo', n::VARCHAR, n IN (SELECT unnest(?)), now() FROM range(?) t(n)",
        [excluded, WINDOW],
    )
    f = queries.MentionFilter(END - timedelta(days=14), END, brands=("声浪",))
    where, params = queries.filter_where(f)
    expected = store.query(
        f"SELECT m.text FROM trusted_mentions m JOIN sentiment s USING (source, native_id) WHERE s.label = 'neg'"
        f" AND {where} ORDER BY m.published_at DESC, m.source DESC, m.native_id DESC LIMIT ?",
        [*params, limit],
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queries, "NEWEST_KEYS", 7)  # many pages, each with excluded keys
        shown = queries.latest_negative(store, f, limit=limit)
    assert shown["text"].tolist() == [text for (text,) in expected]
    assert "第0条 电池发热 客服不理人" not in shown["text"].tolist()


# Local days in Beijing start on whole 5-minute buckets: no partial bucket at either end.
ALIGNED = queries.MentionFilter(END - timedelta(days=14, hours=8), END - timedelta(hours=8), brands=("声浪",))


def test_comparison_counts_whole_buckets_from_the_rollups(store: Store, tmp_path: Path) -> None:
    """Bug: the overview's brand comparison joined every row of the window to its score (0.78 s for
    three brands over 14 days at 1M mentions) where the rollups hold the same counts."""
    series = brand_series(store, ALIGNED, timedelta(days=1), "Asia/Shanghai")
    channels = channel_shares(store, ALIGNED)
    shown = [i for i in range(WINDOW) if ALIGNED.start <= published(i) < ALIGNED.end]
    assert series["mentions"].sum() == channels["mentions"].sum() == len(shown)
    assert series["negative"].sum() == len([i for i in shown if i % NEGATIVE_EVERY == 0])
    assert rows_read(store, tmp_path, lambda: brand_series(store, ALIGNED, timedelta(days=1), "Asia/Shanghai")) == 0
    assert rows_read(store, tmp_path, lambda: channel_shares(store, ALIGNED)) == 0


def test_export_row_counts_count_whole_buckets_from_the_rollups(store: Store, tmp_path: Path) -> None:
    """Bug: the overview's export captions counted the window's rows joined to every score (0.31 s at
    1M mentions for the two counts) where the rollups hold them."""
    total = count_export_mentions(store, ALIGNED)
    negative = count_export_mentions(store, ALIGNED, "neg")
    where, params = queries.filter_where(ALIGNED)
    rows = store.query(
        f"SELECT count(*), count(*) FILTER (WHERE s.label = 'neg') FROM mentions m"
        f" LEFT JOIN sentiment s USING (source, native_id) WHERE {where}",
        params,
    )[0]
    assert (total, negative) == rows
    assert count_export_mentions(store, ALIGNED, "pos") == total - negative
    assert rows_read(store, tmp_path, lambda: count_export_mentions(store, ALIGNED, "neg")) == 0


def test_incident_brief_reads_the_store_in_one_connection(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug: the brief opened the database a second time for the scope's trace (and its saved
    settings a third, in between): each open costs 0.1 s on a loaded machine."""
    from dashboard import loaders

    opened: list[str] = []

    def counted(db: Any, **kwargs: Any) -> Store:
        opened.append(str(db))
        return open_store(db, **kwargs)

    monkeypatch.setattr(loaders, "open_store", counted)
    monkeypatch.setattr("storage.open_store", counted)
    with open_store(demo_db, read_only=True) as store:
        [incident] = incidents_where(store, "WHERE kind = 'negative' ORDER BY severity DESC LIMIT 1", [])
    brief = loaders.load_brief(str(demo_db), incident.id)
    assert brief is not None and brief.trace is not None and len(brief.trace)
    assert brief.trace["observed"].sum() > 0
    assert len(opened) == 2  # the saved settings, then everything the brief shows
