"""search_docs carries each mention's brand, product and reach (migration 193) so that an explorer
page filters and sorts its candidates without reading mentions: they equal mentions' after every
path that writes those (ingest of new and changed mentions, a re-collect that changes only counts,
`koubei retag`, set_brands, forget, `koubei rebuild-index`, the migration itself); and the explorer's
pages and counts read from them equal the scan's, for every brand, product, order and offset."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.search as search_module
from koubei.brands import retag
from koubei.records import Mention
from koubei.settings.sections import Brand
from querylang import parse
from storage import Store, open_store, upsert_mentions
from storage.forget import Selector, forget
from storage.mentions import set_brands
from storage.search import Order, Window, count_found, search
from storage.textindex import REACH, rebuild_index
from tests.storage.test_textindex import _demo, generated_mentions

BRANDS = ("甲", "乙", "丙", None)
PRODUCTS = ("甲一", "甲二", None, None, "乙一")


def branded_mentions(count: int = 1500) -> list[Mention]:
    """generated_mentions with brands, products (some missing) and counts (some missing, many tied)."""
    pick = random.Random(11)
    return [
        replace(
            m,
            brand=BRANDS[i % len(BRANDS)],
            product=PRODUCTS[i % len(PRODUCTS)],
            likes=None if i % 6 == 0 else pick.randrange(8),
            reposts=pick.choice((None, 0, 1, 3)),
            replies=pick.randrange(3),
        )
        for i, m in enumerate(generated_mentions(count))
    ]


def _differences(store: Store) -> list[tuple[object, ...]]:
    """The (source, native_id, brand, product, reach) rows where search_docs and mentions disagree,
    a mention without its doc or a doc without its mention included."""
    mentions = f"SELECT source, native_id, brand, product, {REACH} FROM mentions"
    docs = "SELECT source, native_id, brand, product, reach FROM search_docs"
    return store.query(f"({mentions} EXCEPT {docs}) UNION ALL ({docs} EXCEPT {mentions})")


def _docs(store: Store) -> dict[tuple[str, str], int]:
    return {(s, n): d for s, n, d in store.query("SELECT source, native_id, doc FROM search_docs")}


@pytest.fixture
def branded(tmp_path: Path) -> Iterator[tuple[Path, list[Mention]]]:
    mentions = branded_mentions()
    path = tmp_path / "docs.duckdb"
    with open_store(path) as store:
        for start in range(0, len(mentions), 500):
            upsert_mentions(store, mentions[start : start + 500])
        assert not _differences(store)
        brands, reaches = store.query("SELECT count(DISTINCT brand), count(DISTINCT reach) FROM search_docs")[0]
        assert brands == len(BRANDS) - 1 and reaches > 5  # something to get wrong
    yield path, mentions


def test_a_recollect_keeps_search_docs_equal_to_mentions(branded: tuple[Path, list[Mention]]) -> None:
    path, mentions = branded
    pick = random.Random(2)
    recounted = [replace(m, likes=(m.likes or 0) + 50, replies=None) for m in pick.sample(mentions, 60)]
    rebranded = [replace(m, brand="丁", product=None) for m in pick.sample(mentions, 30)]
    rewritten = [replace(m, text=m.text[::-1], reposts=9) for m in pick.sample(mentions, 20)]
    with open_store(path) as store:
        docs, postings = _docs(store), store.query("SELECT count(*) FROM search_grams")[0][0]
        upsert_mentions(store, recounted + rebranded)
        assert not _differences(store)
        # only counts and brands changed: the same docs and postings, reach and brand updated in place
        assert _docs(store) == docs and store.query("SELECT count(*) FROM search_grams")[0][0] == postings
        upsert_mentions(store, rewritten)
        assert not _differences(store)
        assert {k for k, d in _docs(store).items() if docs[k] != d} == {(m.source, m.native_id) for m in rewritten}


def test_retag_and_set_brands_keep_search_docs_equal_to_mentions(branded: tuple[Path, list[Mention]]) -> None:
    path, _ = branded
    brands = [
        Brand(name="甲", query="质量 NOT 退款", products=("甲三",), product_queries={"甲三": "质量 NEAR/3 好"}),
        Brand(name="丁", query="物流 OR 快递"),
    ]
    with open_store(path) as store:
        assert retag(store, brands) > 0
        assert not _differences(store)
        # a query changed: what the old one filled in is cleared, the new one applied
        brands[1] = Brand(name="丁", query="客服")
        assert retag(store, brands) > 0
        assert not _differences(store)
        keys = store.query("SELECT source, native_id FROM mentions ORDER BY native_id LIMIT 40")
        assert set_brands(store, [(s, n, "戊", "戊一") for s, n in keys]) == 40
        assert not _differences(store)


def test_forget_and_rebuild_keep_search_docs_equal_to_mentions(branded: tuple[Path, list[Mention]]) -> None:
    path, mentions = branded
    doomed = mentions[3]
    forget(lambda: open_store(path), Selector("mention", f"{doomed.source}:{doomed.native_id}"), "test", "test")
    with open_store(path) as store:
        assert not _differences(store)
        assert rebuild_index(store) == len(mentions) - 1
        assert not _differences(store)


def test_migration_193_fills_search_docs_from_mentions_in_doc_order(branded: tuple[Path, list[Mention]]) -> None:
    path, _ = branded
    with open_store(path) as store:
        in_order = store.query("SELECT doc FROM search_docs ORDER BY rowid")
        store.con.execute("UPDATE search_docs SET brand = NULL, product = NULL, reach = 0")
        assert _differences(store)
        store.con.execute("DELETE FROM schema_migrations WHERE version = 193")  # as a store from before it
    with open_store(path) as store:
        assert not _differences(store)
        assert store.query("SELECT doc FROM search_docs ORDER BY rowid") == in_order


# Queries the index answers exactly (two-character words, AND / OR, a source at the top).
EXACT = ("客服 OR 物流", "质量", "(质量 OR 价格) source:gen1", "声浪 充电")


def _pages(store: Store, query: str, window: Window, order: Order) -> tuple[list[str], ...]:
    return tuple(
        [f.id for f in search(store, parse(query), window, limit=10, offset=offset, order=order)]
        for offset in (0, 7, 40)
    )


@pytest.mark.parametrize("mentions", [_demo, branded_mentions], ids=["demo", "generated"])
def test_explorer_pages_of_brands_and_products_equal_the_scan(tmp_path: Path, mentions: object) -> None:
    path = tmp_path / "explorer.duckdb"
    stored = mentions()  # type: ignore[operator]
    with open_store(path) as store:
        for start in range(0, len(stored), 2000):
            upsert_mentions(store, stored[start : start + 2000])
        brands = [b for (b,) in store.query("SELECT brand FROM mentions GROUP BY ALL ORDER BY count(*) DESC")]
        products = [p for (p,) in store.query("SELECT product FROM mentions GROUP BY ALL ORDER BY count(*) DESC")]
        named_brands, named_products = [b for b in brands if b], [p for p in products if p]
        windows = [
            Window(since=since, until=until, brands=b, products=p)
            for since, until in ((None, None), (datetime(2026, 11, 10), datetime(2026, 11, 18)))
            for b in ((), (named_brands[0],), tuple(named_brands[:2]))
            for p in ((), (named_products[0],), tuple(named_products[1:3]))
        ]
        orders: tuple[Order, ...] = ("time", "reach")
        compared = 0
        for query in EXACT:
            for window in windows:
                for order in orders:
                    indexed = (_pages(store, query, window, order), count_found(store, parse(query), window))
                    store.con.execute("UPDATE search_index_state SET complete = false")  # the scan answers
                    try:
                        scanned = (_pages(store, query, window, order), count_found(store, parse(query), window))
                    finally:
                        store.con.execute("UPDATE search_index_state SET complete = true")
                    assert indexed == scanned, (query, window, order)
                    compared += bool(scanned[1])
        assert compared > len(EXACT) * len(windows)  # most combinations find something


NOT_EXACT = (
    "充电宝",
    '"质量很好"',
    "物流 NOT 快递",
    "(退货 OR 退款) 客服",
    "电池 NEAR/5 差",
    "delivery",
    "质量 brand:甲",
)


@pytest.mark.parametrize("budget", [1_000_000, 60], ids=["walked", "scanned-past-budget"])
def test_a_page_by_reach_of_a_query_that_is_not_exact_equals_the_scan(
    branded: tuple[Path, list[Mention]], monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    """Its candidates are read widest first from search_docs, a slice at a time (more than
    READ_ALL of them: before, the page scanned every mention)."""
    path, _ = branded
    monkeypatch.setattr(search_module, "READ_ALL", 5)  # every query here has more candidates
    monkeypatch.setattr(search_module, "BY_KEY_BUDGET", budget)
    walked: list[bool] = []
    walk = search_module._widest_among_candidates

    def recorded(*args: Any, **kwargs: Any) -> Any:
        found = walk(*args, **kwargs)
        walked.append(found is not None)
        return found

    monkeypatch.setattr(search_module, "_widest_among_candidates", recorded)
    windows = [
        Window(),
        Window(brands=("甲",)),
        Window(since=datetime(2026, 11, 5), products=("甲一", "乙一")),
        Window(topics=("t",)),  # not in search_docs: verified on the mentions read
    ]
    with open_store(path) as store:
        store.con.execute(
            "INSERT INTO mention_topics SELECT source, native_id, 't' FROM mentions WHERE native_id LIKE '%1'"
        )
        for query in NOT_EXACT:
            for window in windows:
                indexed = _pages(store, query, window, "reach")
                store.con.execute("UPDATE search_index_state SET complete = false")
                try:
                    assert indexed == _pages(store, query, window, "reach"), (query, window)
                finally:
                    store.con.execute("UPDATE search_index_state SET complete = true")
    assert any(walked) and (budget > 100 or not all(walked))


def test_a_page_cut_through_ties_in_time_and_reach_equals_the_scan(tmp_path: Path) -> None:
    """The top is found by time and reach alone (ties at the last kept), then sorted by key: a page
    whose edge falls among mentions of the same time and reach takes them in key order."""
    at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    mentions = [
        Mention(f"s{i % 3}", f"t{i}", "客服回复慢", at - timedelta(hours=i // 10), brand="甲", likes=(i // 5) % 2)
        for i in range(40)
    ]
    with open_store(tmp_path / "ties.duckdb") as store:
        upsert_mentions(store, mentions)
        window = Window(brands=("甲",))
        for order in ("time", "reach"):
            for offset in (0, 3, 8, 17):
                found = [f.id for f in search(store, parse("客服"), window, limit=4, offset=offset, order=order)]
                store.con.execute("UPDATE search_index_state SET complete = false")
                try:
                    scanned = [f.id for f in search(store, parse("客服"), window, limit=4, offset=offset, order=order)]
                finally:
                    store.con.execute("UPDATE search_index_state SET complete = true")
                assert found == scanned and len(found) == 4, (order, offset)
