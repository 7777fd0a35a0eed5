"""What a search reads (storage/search.py): the page's sentiment, tier and aspects are looked up by
key, not read by scanning their tables, and the page still shows each mention's own."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from querylang import parse
from storage import Store, open_store, upsert_mentions
from storage.search import Found, Window, count_found, search
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


def _rows_scanned(store: Store, run: Callable[[], object]) -> dict[str, int]:
    """The rows each detail table had read by the statements `run` issued (DuckDB's profile)."""
    issued: list[tuple[str, Any]] = []
    query = store.query
    store.query = lambda sql, params=None: issued.append((sql, params)) or query(sql, params)  # type: ignore[method-assign, func-returns-value]
    try:
        run()
    finally:
        del store.query
    scanned = dict.fromkeys(DETAIL_TABLES, 0)
    for sql, params in issued:
        plan = json.loads(store.con.execute(f"EXPLAIN (ANALYZE, FORMAT json) {sql}", params).fetchall()[0][1])
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


def test_an_explorer_page_with_a_brand_and_its_count_read_no_detail_table(scored: Store) -> None:
    scored.con.execute("UPDATE mentions SET brand = 'b' WHERE source = 'gen1'")
    window = Window(since=datetime(2026, 11, 1), brands=("b",))
    scanned = _rows_scanned(
        scored,
        lambda: (
            search(scored, parse("客服 OR 物流"), window, limit=LIMIT),
            count_found(scored, parse("客服"), window),
        ),
    )
    assert all(rows <= 2 * LIMIT for rows in scanned.values()), scanned
