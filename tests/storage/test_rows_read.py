"""Rows read by key, not by scanning a table (storage/bykey.py): a search page's sentiment, tier and
aspects (storage/search.py), and the topics an ingest batch replaces (storage/tagging.py); the
newest candidates of a search and their count read from the postings alone."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from koubei import topics
from koubei.settings.sections import Topic
from querylang import parse
from storage import Store, open_store, upsert_mentions
from storage.mentions import set_brands
from storage.predicates import predicate
from storage.search import READ_ALL, Found, Window, _candidate_times, count_found, search
from tests.storage.test_textindex import generated_mentions

DETAIL_TABLES = ("sentiment", "triage", "mention_aspects")
LIMIT = 10


@pytest.fixture
def scored(tmp_path: Path) -> Iterator[Store]:
    """2,000 generated mentions, each with a sentiment, a tier and an aspect; a mention of another
    source with a native_id they use has other ones (the lookup by native_id must check the source)."""
    with open_store(tmp_path / "reads.duckdb") as store:
        upsert_mentions(store, generated_mentions(2000))
        store.con.execute(
            "INSERT INTO sentiment SELECT source, native_id, 0.1, 'neg', 'm', '1', 'h', now() FROM mentions"
        )
        store.con.execute("INSERT INTO triage (source, native_id, urgency) SELECT source, native_id, 3 FROM mentions")
        store.con.execute("INSERT INTO mention_aspects SELECT source, native_id, '质量', 'neg' FROM mentions")
        store.con.execute(
            "INSERT INTO sentiment SELECT 'other', native_id, 0.9, 'pos', 'm', '1', 'h', now() FROM mentions"
        )
        store.con.execute("INSERT INTO triage (source, native_id, urgency) SELECT 'other', native_id, 1 FROM mentions")
        yield store


def _plans(store: Store, run: Callable[[], object]) -> list[Any]:
    """The profiles (EXPLAIN ANALYZE, as JSON) of the statements `run` issued."""
    issued: list[tuple[str, Any]] = []
    query = store.query
    store.query = lambda sql, params=None: issued.append((sql, params)) or query(sql, params)  # type: ignore[method-assign, func-returns-value]
    try:
        run()
    finally:
        del store.query
    return [
        json.loads(store.con.execute(f"EXPLAIN (ANALYZE, FORMAT json) {sql}", params).fetchall()[0][1])
        for sql, params in issued
    ]


def _rows_scanned(store: Store, run: Callable[[], object], tables: tuple[str, ...] = DETAIL_TABLES) -> dict[str, int]:
    """The rows each of these tables had read by the statements `run` issued (DuckDB's profile)."""
    scanned = dict.fromkeys(tables, 0)
    for plan in _plans(store, run):
        for node in _nodes(plan):
            table = node.get("extra_info", {}).get("Table", "").rsplit(".", 1)[-1]
            if table in scanned:
                scanned[table] += int(node.get("operator_rows_scanned", 0))
    return scanned


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for child in node:
            yield from _nodes(child)
    elif isinstance(node, dict):
        yield node
        yield from _nodes(node.get("children", []))


@pytest.mark.parametrize(
    ("query", "order"),
    [("客服 OR 物流", "time"), ("客服 OR 物流", "reach"), ("质量 NOT 快递", "time"), ("好 差", "reach")],
    ids=["exact-time", "exact-reach", "candidates-time", "scan-reach"],
)
def test_a_page_reads_its_details_by_key_not_by_scanning_their_tables(scored: Store, query: str, order: str) -> None:
    """Bug: the page joined sentiment, triage and mention_aspects on (source, native_id), which
    DuckDB answers by scanning each whole table (120 ms a table for 50 mentions at 1,000,000)."""
    found: list[Found] = []
    scanned = _rows_scanned(scored, lambda: found.extend(search(scored, parse(query), limit=LIMIT, order=order)))  # type: ignore[arg-type]
    assert len(found) == LIMIT
    assert all(rows <= 2 * LIMIT for rows in scanned.values()), scanned
    assert {(f.label, f.tier, f.aspects) for f in found} == {("neg", 3, ("质量:neg",))}


def _brand_source(store: Store, source: str, brand: str) -> None:
    """Give every mention of `source` the brand, as storage writes it (search_docs follows)."""
    keys = store.query("SELECT source, native_id, product FROM mentions WHERE source = ?", [source])
    set_brands(store, [(s, n, brand, p) for s, n, p in keys])


def test_an_explorer_page_with_a_brand_and_its_count_read_no_detail_table(scored: Store) -> None:
    _brand_source(scored, "gen1", "b")
    window = Window(since=datetime(2026, 11, 1), brands=("b",))
    scanned = _rows_scanned(
        scored,
        lambda: (
            search(scored, parse("客服 OR 物流"), window, limit=LIMIT),
            count_found(scored, parse("客服"), window),
        ),
    )
    assert all(rows <= 2 * LIMIT for rows in scanned.values()), scanned


def test_the_newest_candidates_and_an_exact_count_read_only_the_postings(scored: Store) -> None:
    """Bug: every search joined its candidates to search_docs for their times, reading all of it
    (at 10,000,000 mentions, 10,000,000 rows per search and per count)."""
    window = Window(since=datetime(2026, 11, 1))
    counted: list[int] = []
    scanned = _rows_scanned(
        scored,
        lambda: counted.extend(
            (count_found(scored, parse("客服 OR 物流"), window), count_found(scored, parse("质量"), window))
        ),
        ("search_docs",),
    )
    assert scanned == {"search_docs": 0} and min(counted) > 0
    scanned = _rows_scanned(
        scored, lambda: search(scored, parse("质量 NOT 快递"), window, limit=LIMIT), ("search_docs",)
    )
    assert scanned == {"search_docs": 0}


class _Profiled:
    """A connection that runs the deletes from one table under EXPLAIN ANALYZE, adding up the rows
    they read from it; everything else goes to the connection as is."""

    def __init__(self, con: Any, table: str) -> None:
        self.con, self.table, self.scanned = con, table, 0

    def execute(self, sql: str, params: Any = None) -> Any:
        if not sql.startswith(f"DELETE FROM {self.table}"):
            return self.con.execute(sql, params)
        plan = json.loads(self.con.execute(f"EXPLAIN (ANALYZE, FORMAT json) {sql}", params).fetchall()[0][1])
        for node in _nodes(plan):
            if node.get("extra_info", {}).get("Table", "").endswith(f".{self.table}"):
                self.scanned += int(node.get("operator_rows_scanned", 0))
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def test_ingest_replaces_a_batchs_topics_without_scanning_mention_topics(tmp_path: Path) -> None:
    """Bug: store_topics deleted the batch's old tags with (source, native_id) IN (...), a scan of
    every mention's tags per ingest batch, growing with the store."""
    mentions = generated_mentions(2000)
    rules = topics.topic_rules(
        [Topic(name="物流", query="物流 OR 快递 OR 质量"), Topic(name="好", query="好"), Topic(name="的", query="的")]
    )
    with open_store(tmp_path / "topics.duckdb") as store:
        upsert_mentions(store, mentions)
        topics.tag_topics(store, rules, mentions)
        batch = mentions[:120]  # more keys than one lookup takes
        other = ("other", batch[0].native_id, "好")  # another source's mention with the same native_id
        store.con.execute("INSERT INTO mention_topics VALUES (?, ?, ?)", list(other))
        total = store.query("SELECT count(*) FROM mention_topics")[0][0]
        expected = set(store.query("SELECT * FROM mention_topics"))
        store.con.execute("DELETE FROM mention_topics WHERE native_id = ? AND source <> 'other'", [batch[1].native_id])
        profiled = _Profiled(store.con, "mention_topics")
        store.con = profiled  # type: ignore[assignment]
        try:
            topics.tag_topics(store, rules, batch)
        finally:
            store.con = profiled.con
        assert total > 10 * len(batch) and 0 < profiled.scanned <= 2 * len(batch), (profiled.scanned, total)
        assert set(store.query("SELECT * FROM mention_topics")) == expected


def _mentions_scans(store: Store, run: Callable[[], object]) -> list[dict[str, Any]]:
    """What each scan of mentions in the statements `run` issued read (its profile's extra_info)."""
    return [
        node["extra_info"]
        for plan in _plans(store, run)
        for node in _nodes(plan)
        if node.get("extra_info", {}).get("Table", "").endswith(".mentions")
    ]


def test_near_matches_the_texts_of_its_candidates_only(scored: Store) -> None:
    """Bug: a NEAR whose candidates rarely satisfy it (电池 NEAR/5 差) ran out of the 4,000 newest
    candidates (here: of its budget of reads) and scanned every text (6.2 s at 10,000,000 mentions)."""
    query = parse("电池 NEAR/10 差")
    found: list[Found] = []
    scans = _mentions_scans(scored, lambda: found.extend(search(scored, query, limit=LIMIT)))
    # every read of mentions is bounded by the candidates' times: none scans every text
    assert scans and all("published_at" in json.dumps(scan.get("Filters", "")) for scan in scans), scans
    scanned = scored.query(
        f"SELECT m.native_id FROM mentions m WHERE {predicate(query, 'm').sql}", predicate(query).params
    )
    assert [f.native_id for f in found] == [row[0] for row in scanned] and found


def test_an_explorer_count_of_a_brand_reads_no_mention(scored: Store) -> None:
    """Bug: the brand filter was not in the index path: an explorer page's count of one brand
    matched every text of the window (1.0-1.4 s a page at 10,000,000 mentions). Then it joined the
    candidates' keys to the window's mentions by (source, native_id) for their brands (0.7 s at
    10,000,000): search_docs now has the brand, and the count reads no mention at all."""
    _brand_source(scored, "gen1", "b")
    window = Window(since=datetime(2026, 11, 1), brands=("b",))
    counted: list[int] = []
    scans = _mentions_scans(scored, lambda: counted.append(count_found(scored, parse("客服 OR 物流"), window)))
    assert scans == []
    where = predicate(parse("客服 OR 物流"), "m")
    expected = scored.query(
        f"SELECT count(*) FROM mentions m WHERE brand = 'b' AND published_at >= ? AND {where.sql}",
        [window.since, *where.params],
    )
    assert counted == [expected[0][0]] and counted[0] > 0


def test_a_page_by_reach_of_a_query_that_is_not_exact_reads_its_candidates_times_only(scored: Store) -> None:
    """Bug: a page by reach of a query with more than READ_ALL candidates scanned every text. Its candidates are now taken widest first from search_docs (migration 193) and only the
    mentions at their times are read."""
    query = parse("(房间 OR 就是) NOT 酒店")
    assert len(_candidate_times(scored, query, Window()) or ()) > READ_ALL
    found: list[Found] = []
    scans = _mentions_scans(scored, lambda: found.extend(search(scored, query, limit=LIMIT, order="reach")))
    assert scans and all("published_at" in json.dumps(scan.get("Filters", "")) for scan in scans), scans
    assert len(found) == LIMIT
