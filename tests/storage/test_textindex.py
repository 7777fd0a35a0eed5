"""The full-text index (storage/textindex.py): a search through it finds exactly what the scan
finds, on the demo data and on a generated store, after ingest, changed texts, forget and
re-ingest; the index kept at ingest equals a rebuilt one."""

from __future__ import annotations

import itertools
import random
import re
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.options import parse_source
from collectors.sources.demo import DemoCollector
from koubei import topics
from koubei.brands import BrandMatcher, retag
from koubei.records import Mention
from koubei.settings.sections import Brand, Topic
from querylang import Document, matches, parse
from sentiment.corpus import written_corpus
from sentiment.text import traditional_pairs
from storage import Store, open_store, tagging, textindex, upsert_mentions
from storage.db import migration_files
from storage.forget import Selector, forget
from storage.search import Order, Window, _candidate_times, _counted_by_index, count_found, search
from storage.textindex import (
    GRAM_SHIFT,
    SORT_RANGES,
    bigrams,
    candidates,
    exact,
    exact_docs,
    rebuild_index,
    required_sources,
    sort_postings,
    sort_postings_tail,
    unsorted_docs,
)
from tests.conftest import built_once

NOW = datetime(2026, 11, 21, tzinfo=UTC)
QUERIES = (
    "充电宝",
    "發燙",
    '"质量很好"',
    "物流 NOT 快递",
    "(退货 OR 退款) 客服",
    "电池 NEAR/5 差",
    "声浪 OR 律动",
    "delivery",
    "SonicWave",
    "客服 source:demo.weibo",
    "好 差",  # single characters: the scan answers
    "NOT 客服",
    "质量 OR 好",
    "客服 OR 物流",  # two-character words: counted from the index alone
    "(质量 OR 价格) source:gen1",
)


def _demo() -> list[Mention]:
    collector = DemoCollector(parse_source("demo", {"end": "2026-11-20T12:00:00+08:00", "days": 14}))
    return [m for page in collector.pages() for m in page.mentions]


def generated_mentions(count: int = 3000, seed: int = 3) -> list[Mention]:
    """Written reviews over 30 days, a fifth of them in traditional characters, some in upper case."""
    corpus, _ = written_corpus()
    to_traditional = {simplified: traditional for traditional, simplified in traditional_pairs()}
    pick = random.Random(seed)
    mentions = []
    for i in range(count):
        text = corpus[pick.randrange(len(corpus))] + corpus[pick.randrange(len(corpus))]
        if i % 5 == 0:
            text = "".join(to_traditional.get(c, c) for c in text)
        if i % 7 == 0:
            text = text.upper()
        published = NOW - timedelta(minutes=pick.randrange(60 * 24 * 30))
        mentions.append(Mention(f"gen{i % 3}", f"g{i}", text, published))
    return mentions


def _found(store: Store, query: str, window: Window, limit: int, order: Order) -> tuple[list[str], int]:
    pages = [search(store, parse(query), window, limit=limit, offset=offset, order=order) for offset in (0, 7)]
    return [f.id for page in pages for f in page], count_found(store, parse(query), window)


def _scanned(store: Store, query: str, window: Window, limit: int, order: Order) -> tuple[list[str], int]:
    """What the search finds without the index (marked incomplete, as on a store not yet indexed)."""
    store.con.execute("UPDATE search_index_state SET complete = false")
    try:
        return _found(store, query, window, limit, order)
    finally:
        store.con.execute("UPDATE search_index_state SET complete = true")


def _assert_index_equals_scan(store: Store) -> None:
    windows = [Window(), Window(since=datetime(2026, 11, 10), until=datetime(2026, 11, 15))]
    shapes = [(w, limit, order) for w in windows for limit, order in ((10, "time"), (60, "time"), (20, "reach"))]
    shapes.append((Window(sources=("gen1", "demo.weibo")), 10, "time"))  # the window's sources, pushed down
    for query in QUERIES:
        for window, limit, order in shapes:
            indexed = _found(store, query, window, limit, order)  # type: ignore[arg-type]
            assert indexed == _scanned(store, query, window, limit, order), (query, window, limit)  # type: ignore[arg-type]


def _postings(store: Store) -> set[tuple[str, str, int]]:
    rows = store.query("SELECT d.source, d.native_id, g.gram FROM search_grams g JOIN search_docs d USING (doc)")
    return {(s, n, g) for s, n, g in rows}


def ingest(mentions: list[Mention], path: Path) -> None:
    """The mentions stored (and indexed at ingest) in batches of 1,000, as a collector's pages come."""
    with open_store(path) as store:
        for start in range(0, len(mentions), 1000):
            upsert_mentions(store, mentions[start : start + 1000])


@pytest.fixture(params=[_demo, generated_mentions], ids=["demo", "generated"])
def stored(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[tuple[Path, list[Mention]]]:
    """A copy of a store the mentions were ingested into once per test run (tests/conftest.py
    built_once: 22 tests ingested them again, 43 s of setups in a run at load 7); each test may write to
    its copy. The mentions are made again (the same for the same seed), not shared."""
    mentions = request.param()
    built = built_once(
        tmp_path_factory,
        worker_id,
        f"textindex-{request.param.__name__}",
        lambda f: ingest(mentions, f / "index.duckdb"),
    )
    path = tmp_path / "index.duckdb"
    assert not (built / "index.duckdb.wal").exists()  # closed, so checkpointed: the file is the whole store
    shutil.copy(built / "index.duckdb", path)
    yield path, mentions


def test_the_index_finds_what_the_scan_finds(stored: tuple[Path, list[Mention]]) -> None:
    path, _ = stored
    with open_store(path) as store:
        _assert_index_equals_scan(store)


def test_changed_texts_forget_and_reingest_keep_the_index_equal_to_a_rebuild(
    stored: tuple[Path, list[Mention]],
) -> None:
    path, mentions = stored
    pick = random.Random(5)
    changed = [Mention(m.source, m.native_id, m.text[::-1], m.published_at, likes=7) for m in pick.sample(mentions, 40)]
    recounted = [Mention(m.source, m.native_id, m.text, m.published_at, likes=99) for m in pick.sample(mentions, 40)]
    doomed = pick.sample(mentions, 5)
    with open_store(path) as store:
        upsert_mentions(store, changed + recounted)
    for mention in doomed:
        forget(lambda: open_store(path), Selector("mention", f"{mention.source}:{mention.native_id}"), "test", "test")
    with open_store(path) as store:
        upsert_mentions(store, mentions)  # re-ingest: the forgotten stay out, the changed change back
        kept = _postings(store)
        assert not {(s, n) for s, n, _ in kept} & {(m.source, m.native_id) for m in doomed}
        _assert_index_equals_scan(store)
        rebuild_index(store)
        assert _postings(store) == kept  # the same postings: the same answers


def test_a_forgotten_text_leaves_no_postings(tmp_path: Path) -> None:
    path = tmp_path / "forget.duckdb"
    mention = Mention("weibo", "1", "独一无二的句子", NOW)
    with open_store(path) as store:
        upsert_mentions(store, [mention, Mention("weibo", "2", "别的", NOW)])
        before = store.query("SELECT count(*) FROM search_grams")[0][0]
    forget(lambda: open_store(path), Selector("mention", "weibo:1"), "test", "test")
    with open_store(path) as store:
        assert store.query("SELECT count(*) FROM search_grams")[0][0] == before - len(bigrams(mention.text))
        assert store.query("SELECT count(*) FROM search_docs")[0][0] == 1


def test_words_are_narrowed_by_their_bigrams_single_characters_and_not_by_nothing() -> None:
    assert candidates(parse("充电宝 NOT 发烫")) is not None
    assert candidates(parse("差 OR 好")) is None
    assert candidates(parse("NOT 充电宝")) is None
    assert candidates(parse("充电宝 OR 好")) is None  # either side may match: a single character narrows nothing
    assert bigrams("充電寶AB") == bigrams("充电宝ab")


def test_a_store_with_mentions_before_the_index_scans_until_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with open_store(path) as store:
        upsert_mentions(store, [Mention("weibo", "1", "充电宝发烫", NOW)])
        store.con.execute("DELETE FROM search_grams")
        store.con.execute("UPDATE search_index_state SET complete = false")
        assert [f.id for f in search(store, parse("充电宝"))] == ["weibo:1"]
        assert rebuild_index(store) == 1
        assert store.query("SELECT bool_and(complete) FROM search_index_state")[0][0]
        assert [f.id for f in search(store, parse("充电宝"))] == ["weibo:1"]


def _retagged(store: Store, brands: list[Brand]) -> set[tuple[str, str, str | None, str | None]]:
    store.con.execute("UPDATE mentions SET brand = NULL, product = NULL")
    retag(store, brands)
    return _tagged(store)


def _tagged(store: Store) -> set[tuple[str, str, str | None, str | None]]:
    return {(s, n, b, p) for s, n, b, p in store.query("SELECT source, native_id, brand, product FROM mentions")}


def test_retag_through_the_index_tags_as_the_scan_does(stored: tuple[Path, list[Mention]]) -> None:
    path, _ = stored
    words = ("质量", "物流", "客服", "价格", "電池", "delivery")
    brands = [
        Brand(
            name=f"b{n}", query=f"{word} NOT 退款", products=(f"p{n}",), product_queries={f"p{n}": f"{word} NEAR/3 好"}
        )
        for n, word in enumerate(words)
    ] + [Brand(name="single", query="好 OR 差")]  # narrowed by nothing: the predicate alone
    with open_store(path) as store:
        indexed = _retagged(store, brands)
        store.con.execute("UPDATE search_index_state SET complete = false")
        assert indexed == _retagged(store, brands)
        assert {"b0", "b1", "single", None} <= {b for _, _, b, _ in indexed}  # narrowed, not narrowed, untagged


# Exact: answered from the postings alone. Each set operation has a query whose answer a wrong one
# (AND as OR, NOT dropped or taken from the wrong side) changes on the demo and generated stores.
EXACT_QUERIES = (
    "客服 物流",
    "客服 OR 物流",
    "质量 NOT 退款",
    "NOT 客服",
    "(质量 OR 价格) NOT (退款 OR 物流)",
    "发烫 NOT (客服 NOT 物流)",
    "(發燙 OR 质量) source:{source}",
    "NOT (质量 OR 物流)",
)


def test_exact_docs_are_exactly_the_matches(stored: tuple[Path, list[Mention]]) -> None:
    path, mentions = stored
    documents = {(m.source, m.native_id): Document(m.text, m.source, m.language) for m in mentions}
    largest = Counter(m.source for m in mentions).most_common(1)[0][0]
    with open_store(path) as store:
        for text in EXACT_QUERIES:
            query = parse(text.format(source=largest))
            found = exact_docs(query)
            assert found is not None, text
            keys = store.query(f"SELECT source, native_id FROM ({found[0]}) JOIN search_docs USING (doc)", found[1])
            expected = {key for key, document in documents.items() if matches(query, document)}
            assert len(keys) == len(set(keys)) and set(keys) == expected, text
            assert 0 < len(expected) < len(documents), text  # the query tells mentions apart


def test_exact_docs_refuse_what_only_the_text_tells() -> None:
    for text in (
        "充电宝",
        "好",
        "客服 NEAR/3 物流",
        "客服 lang:en",
        "客服 brand:声浪",
        "客服 OR 充电宝",
        "客服 NOT 好",
    ):
        assert exact_docs(parse(text)) is None, text


def _topic_tags(store: Store, wanted: Sequence[Topic]) -> set[tuple[str, str, str]]:
    store.con.execute("DELETE FROM topic_queries")
    topics.retag(store, wanted)
    return {(s, n, t) for s, n, t in store.query("SELECT source, native_id, topic FROM mention_topics")}


def test_retag_of_exact_non_exact_and_mixed_queries_tags_as_the_scan_and_ingest_do(
    stored: tuple[Path, list[Mention]],
) -> None:
    path, mentions = stored
    brands = [
        Brand(
            name="exact", query="(质量 OR 价格) NOT 退款", products=("e-p",), product_queries={"e-p": "价格 NOT 退款"}
        ),
        Brand(name="text", query="充电宝 OR 好", products=("t-p",), product_queries={"t-p": "电池 NEAR/5 差"}),
        Brand(name="mixed", query="客服 OR 充电宝", products=("m-p",), product_queries={"m-p": "客服 NOT 物流"}),
        Brand(name="late", query="物流 NOT 快递"),
    ]
    largest = Counter(m.source for m in mentions).most_common(1)[0][0]
    wanted = (
        Topic(name="exact", query="(退款 OR 退货) NOT 客服"),
        Topic(name="text", query="质量 NEAR/6 差"),
        Topic(name="source", query=f"(物流 OR 客服) source:{largest}"),
    )
    expected = {
        (m.source, m.native_id, *BrandMatcher.of(brands).fill(m.text, None, None, m.source, m.language))
        for m in mentions
    }
    with open_store(path) as store:
        indexed = _retagged(store, brands), _topic_tags(store, wanted)
        store.con.execute("UPDATE search_index_state SET complete = false")
        assert indexed == (_retagged(store, brands), _topic_tags(store, wanted))
    assert indexed[0] == expected
    assert {b for _, _, b, _ in expected} == {"exact", "text", "mixed", "late", None}
    assert {p for _, _, _, p in expected} >= {"e-p", "m-p"}
    assert indexed[1] == set(topics.topic_tags(topics.topic_rules(wanted), mentions))
    assert {t for _, _, t in indexed[1]} == {"exact", "text", "source"}


def test_source_filters_are_pushed_into_the_candidate_step(stored: tuple[Path, list[Mention]]) -> None:
    """Bug: `客服 source:weibo` listed the 客服 mentions of every source as candidates and verified the
    source on the mentions read, so it read more than a scan and answered slower than one."""
    path, mentions = stored
    source = sorted({m.source for m in mentions})[1]
    with open_store(path) as store:
        for query, window in ((f"客服 source:{source}", Window()), ("客服", Window(sources=(source,)))):
            times = _candidate_times(store, parse(query), window)
            assert times is not None and 0 < len(times) == count_found(store, parse(query), window)


def test_the_index_alone_counts_the_queries_it_answers_exactly(stored: tuple[Path, list[Mention]]) -> None:
    path, _ = stored
    with open_store(path) as store:
        assert _counted_by_index(store, parse("客服 OR 物流"), Window()) == _scanned_count(store, "客服 OR 物流")
        # brands: the candidates' brands read by key from mentions, no text
        branded = Window(brands=("声浪",))
        assert _counted_by_index(store, parse("客服"), branded) == _scanned(store, "客服", branded, 1, "time")[1]
        assert _counted_by_index(store, parse("客服"), Window(topics=("物流",))) is None  # topics: not in the index
        assert _counted_by_index(store, parse("客服 NOT 物流"), Window()) is None


def _scanned_count(store: Store, query: str) -> int:
    return _scanned(store, query, Window(), 1, "time")[1]


def test_exact_and_required_sources_read_the_query_tree() -> None:
    assert exact(parse("客服 (物流 OR 快递) source:weibo"))
    assert exact(parse("發燙"))
    assert not exact(parse("充电宝"))  # three characters: its bigrams are a superset
    assert not exact(parse("客服 NOT 物流")) and not exact(parse("客服 NEAR/3 物流"))
    assert not exact(parse("客服 OR (物流 source:weibo)"))  # a source below the top is not pushed down
    assert not exact(parse("客服 lang:en"))
    assert required_sources(parse("客服 source:weibo")) == frozenset({"weibo"})
    assert required_sources(parse("(source:a OR source:b) 客服 (source:b OR source:c)")) == frozenset({"b"})
    assert required_sources(parse("客服 OR source:a")) is None


def test_migration_191_sorts_postings_kept_at_ingest_by_gram(tmp_path: Path) -> None:
    """Bug: a store whose index was only ever kept at ingest (the 10M benchmark store) held each
    gram's postings spread over the whole table, so a search read most of search_grams."""
    path = tmp_path / "ingested.duckdb"
    mentions = generated_mentions(600)
    with open_store(path) as store:
        for start in range(0, len(mentions), 200):
            upsert_mentions(store, mentions[start : start + 200])
        before = _postings(store)
        assert _in_stored_order(store) != sorted(_in_stored_order(store))  # ingest appends unsorted
        store.con.execute("DELETE FROM schema_migrations WHERE version = 191")  # as a store from before it
    with open_store(path) as store:
        assert _in_stored_order(store) == sorted(_in_stored_order(store))
        assert _postings(store) == before
        rebuild_index(store)
        assert _in_stored_order(store) == sorted(_in_stored_order(store))
        assert _postings(store) == before


def test_migration_191_and_rebuild_sort_by_the_same_ranges() -> None:
    """Both sort a range of first characters at a time (bounded memory at 10M); the migration's
    SQL spells the bounds out."""
    sql = next(text for version, _, text in migration_files() if version == 191)
    bounds = {int(b) for b in re.findall(r"gram [<>]=? (\d+)", sql)}
    assert bounds == {first << GRAM_SHIFT for first in SORT_RANGES[1:-1]}


def _in_stored_order(store: Store) -> list[tuple[int, int]]:
    return [(g, d) for g, d in store.query("SELECT gram, doc FROM search_grams ORDER BY rowid")]


def test_one_changed_query_retags_only_what_it_touches_as_retagging_all_does(
    stored: tuple[Path, list[Mention]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, mentions = stored
    words = ("质量", "物流", "客服", "价格")
    brands = [
        Brand(name=f"b{n}", query=f"{w} NOT 退款", products=(f"p{n}",), product_queries={f"p{n}": f"{w} NEAR/3 好"})
        for n, w in enumerate(words)
    ]
    changed = list(brands)
    changed[0] = Brand(name="b0", query="质量 NOT 退货", products=("p0",), product_queries={"p0": "质量 NEAR/3 好"})
    changed[2] = Brand(name="b2", query="客服 NOT 退款", products=("p2",), product_queries={"p2": "客服 NEAR/5 差"})
    untagged: list[int | None] = []  # how many mentions each retag cleared and tagged again (None: all)
    real_untag = tagging._untag

    def counted_untag(store: Store, within: str | None) -> None:
        untagged.append(None if within is None else store.query(f"SELECT count(*) FROM {within}")[0][0])
        real_untag(store, within)

    monkeypatch.setattr(tagging, "_untag", counted_untag)
    with open_store(path) as store:
        _retagged(store, brands)
        retag(store, changed)
        incremental = _tagged(store)
        store.con.execute("DELETE FROM tag_rules")  # no record of the rules: all retagged
        assert _retagged(store, changed) == incremental
    assert untagged[0] is None and untagged[2] is None
    assert untagged[1] is not None and 0 < untagged[1] < len(mentions) / 2


def test_exact_docs_match_any_case_and_script_as_the_matcher_does(tmp_path: Path) -> None:
    texts = ["OK的", "还ok", "Ok吧", "發燙了", "发烫", "o k", "不发 烫"]
    mentions = [Mention("weibo", str(n), text, NOW) for n, text in enumerate(texts)]
    with open_store(tmp_path / "exact.duckdb") as store:
        upsert_mentions(store, mentions)
        for text in ("ok", "OK", "发烫", "發燙 NOT ok", "ok OR 發燙", "NOT (ok OR 发烫)"):
            query = parse(text)
            found = exact_docs(query)
            assert found is not None, text
            ids = store.query(f"SELECT native_id FROM ({found[0]}) JOIN search_docs USING (doc)", found[1])
            expected = {m.native_id for m in mentions if matches(query, Document(m.text, m.source))}
            assert {i for (i,) in ids} == expected and expected, text


def test_retag_of_more_rules_than_a_mask_holds_tags_as_the_scan_does(tmp_path: Path) -> None:
    """Over 63 narrowed queries their candidates take two mask columns (storage/rulematch.py)."""
    mentions = generated_mentions(800, seed=9)
    with open_store(tmp_path / "many.duckdb") as store:
        upsert_mentions(store, mentions)
        words = ("质量", "服务", "价格", "物流", "客服", "味道", "环境")
        brands = [
            Brand(name=f"b{n}", query=f"{words[n % len(words)]} NEAR/{1 + n // len(words)} 好") for n in range(70)
        ]
        indexed = _retagged(store, brands)
        store.con.execute("UPDATE search_index_state SET complete = false")
        assert indexed == _retagged(store, brands)
    matcher = BrandMatcher.of(brands)
    assert indexed == {(m.source, m.native_id, *matcher.fill(m.text, None, None, m.source)) for m in mentions}
    assert len({b for _, _, b, _ in indexed}) > len(words)  # a later rank wins some mentions too


def _sorted_through(store: Store) -> int:
    return int(store.query("SELECT sorted_through FROM search_index_state")[0][0])


def _runs_in_stored_order(store: Store, bounds: Sequence[int]) -> list[list[tuple[int, int]]]:
    """The stored postings cut where the docs of one run (bounds[i-1] < doc <= bounds[i]) end."""
    stored = store.query("SELECT gram, doc FROM search_grams ORDER BY rowid")
    return [[(g, d) for g, d in stored if low < d <= high] for low, high in itertools.pairwise([0, *bounds])]


def test_tail_sorts_append_sorted_runs_with_a_rebuilds_postings_and_answers(
    stored: tuple[Path, list[Mention]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 (round 28): ingest appends postings unsorted; each tail sort leaves them one more
    run sorted by (gram, doc), after the runs before, and changes no answer."""
    path, mentions = stored
    monkeypatch.setattr(textindex, "SORT_POSTINGS", 5_000)  # several gram ranges per sort
    with open_store(path) as store:
        first = int(store.query("SELECT max(doc) FROM search_docs")[0][0])
        assert _sorted_through(store) == 0 and unsorted_docs(store) == first
        assert sort_postings_tail(store) > 0
        assert _sorted_through(store) == first and unsorted_docs(store) == 0
        assert sort_postings_tail(store) == 0  # nothing after sorted_through
        changed = [Mention(m.source, m.native_id, m.text[::-1], m.published_at) for m in mentions[:300]]
        upsert_mentions(store, changed)  # new docs: an unsorted tail after the run
        second = int(store.query("SELECT max(doc) FROM search_docs")[0][0])
        assert unsorted_docs(store) == 300
        assert sort_postings_tail(store, at_least=301) == 0 and _sorted_through(store) == first
        sort_postings_tail(store, at_least=300)
        assert _sorted_through(store) == second
        for run in _runs_in_stored_order(store, [first, second]):
            assert run and run == sorted(run)
        _assert_index_equals_scan(store)
        kept = _postings(store)
        rebuild_index(store)
        assert _postings(store) == kept


def test_sort_postings_writes_one_run_as_a_rebuild_does(stored: tuple[Path, list[Mention]]) -> None:
    path, _ = stored
    with open_store(path) as store:
        before = _postings(store)
        assert _in_stored_order(store) != sorted(_in_stored_order(store))
        assert sort_postings(store) == len(before)
        assert _in_stored_order(store) == sorted(_in_stored_order(store))
        assert _postings(store) == before
        assert _sorted_through(store) == store.query("SELECT max(doc) FROM search_docs")[0][0]
        _assert_index_equals_scan(store)


def test_docs_indexed_after_the_sorted_ones_were_forgotten_land_in_the_tail(tmp_path: Path) -> None:
    """Bug: a doc was numbered after the highest doc left, which could be at or below
    sorted_through once the newest sorted mentions were forgotten: its postings, appended
    unsorted, counted as sorted and no tail sort would reach them."""
    path = tmp_path / "renumbered.duckdb"
    with open_store(path) as store:
        upsert_mentions(store, [Mention("weibo", "1", "第一条评论", NOW), Mention("weibo", "2", "第二条评论", NOW)])
        sort_postings_tail(store)
        assert _sorted_through(store) == 2
    forget(lambda: open_store(path), Selector("mention", "weibo:2"), "test", "test")
    with open_store(path) as store:
        upsert_mentions(store, [Mention("weibo", "3", "第三条评论", NOW)])
        assert store.query("SELECT doc FROM search_docs WHERE native_id = '3'")[0][0] > 2
        assert unsorted_docs(store) == 1


def test_gram_ranges_hold_at_most_sort_postings_each(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A sort's peak memory follows the postings it holds: the ranges cut by count cover every
    posting once, none holding more than SORT_POSTINGS unless one gram alone does."""
    monkeypatch.setattr(textindex, "SORT_POSTINGS", 2_000)
    with open_store(tmp_path / "ranges.duckdb") as store:
        upsert_mentions(store, generated_mentions(600))
        ranges = textindex._gram_ranges(store, 0)
        assert len(ranges) > 3 and ranges[0][0] == 0
        assert all(high == low for (_, high), (low, _) in itertools.pairwise(ranges))
        sizes = [
            store.query("SELECT count(*) FROM search_grams WHERE gram >= ? AND gram < ?", [low, high])[0][0]
            for low, high in ranges
        ]
        assert sum(sizes) == store.query("SELECT count(*) FROM search_grams")[0][0]
        assert max(sizes) <= 2_000


def test_migration_195_marks_nothing_sorted_on_a_store_from_before(tmp_path: Path) -> None:
    path = tmp_path / "before195.duckdb"
    with open_store(path) as store:
        upsert_mentions(store, generated_mentions(50))
        sort_postings(store)
        store.con.execute("ALTER TABLE search_index_state DROP COLUMN sorted_through")
        store.con.execute("DELETE FROM schema_migrations WHERE version = 195")
    with open_store(path) as store:
        assert _sorted_through(store) == 0 and unsorted_docs(store) == 50


def test_a_sort_limits_duckdbs_memory_and_leaves_the_default_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits: list[str] = []
    real = textindex._gram_ranges

    def seen(store: Store, through: int) -> list[tuple[int, int]]:
        limits.append(store.query("SELECT current_setting('memory_limit')")[0][0])
        return real(store, through)

    monkeypatch.setattr(textindex, "_gram_ranges", seen)
    with open_store(tmp_path / "limit.duckdb") as store:
        default = store.query("SELECT current_setting('memory_limit')")[0][0]
        upsert_mentions(store, generated_mentions(20))
        for _ in range(3):
            sort_postings(store)
        assert limits == ["1.8 GiB"] * 3  # SORT_MEMORY, 2GB, as DuckDB shows it
        assert store.query("SELECT current_setting('memory_limit')")[0][0] == default
