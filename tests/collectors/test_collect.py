"""Every collector against the fixtures served by a real local HTTP server: paging, reruns, crashes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from collectors.base import registry
from collectors.options import parse_source
from collectors.runner import build_collector, collect, run_collector
from storage import Store
from storage.cursors import Cursor, get_cursors
from storage.health import recent_runs, source_health
from tests.collectors.conftest import settings_for, source_options

# Each source's demo: its pages as the demo site serves them (3 pages a target, conftest's `site`).
DEMOS = {kind: cls.demo for kind, cls in registry().items() if cls.demo is not None}


def _count(store_factory: Callable[[], Store], source: str) -> int:
    with store_factory() as store:
        return store.query("SELECT count(*) FROM mentions WHERE source = ?", [source])[0][0]


@pytest.mark.parametrize("kind", sorted(DEMOS))
def test_each_source_pages_through_and_a_rerun_adds_nothing(
    kind: str, served: HTTPServer, any_store_factory: Callable[[], Store]
) -> None:
    demo = DEMOS[kind]
    options = source_options(served)[kind]
    settings = settings_for({kind: options})
    (first,) = collect(any_store_factory, settings)
    assert first.ok, first.error
    pages_per_target = 3 if demo.paged else 1
    expected = pages_per_target * sum(demo.per_page)
    assert (first.pages, first.inserted) == (pages_per_target * len(demo.per_page), expected)
    assert _count(any_store_factory, kind) == expected

    requests_before = len(served.log)
    (second,) = collect(any_store_factory, settings)
    assert second.ok and second.inserted == 0 and second.updated == 0
    assert _count(any_store_factory, kind) == expected
    if demo.paged:
        # Incremental: the rerun stops on the first page, which holds known items.
        assert second.pages == 1
        fetched = [r for r, _ in served.log[requests_before:] if r.path != "/robots.txt"]
        assert len(fetched) == 1
    with any_store_factory() as store:
        (health,) = source_health(store)
        assert health.status == "ok" and health.last_items == second.items
        assert [r.status for r in recent_runs(store, kind)] == ["ok", "ok"]


def test_mentions_carry_brand_product_and_clean_fields(served: HTTPServer, store_factory: Callable[[], Store]) -> None:
    options = source_options(served)
    (result,) = collect(store_factory, settings_for({"jd": options["jd"]}))
    assert result.ok
    with store_factory() as store:
        rows = store.query("SELECT brand, product, text, rating, author_hash FROM mentions WHERE source = 'jd'")
    assert {(r[0], r[1]) for r in rows} == {("声浪", "声浪X1耳机")}
    assert all(r[2] and "<" not in r[2] and r[3] == 5.0 and r[4] and "测" not in r[4] for r in rows)


def test_jd_sends_referer_and_cookie_from_environment(
    served: HTTPServer, store_factory: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOUBEI_TEST_JD_COOKIE", "pin=test; thor=abc")
    options = {
        **source_options(served)["jd"],
        "cookie_env": "KOUBEI_TEST_JD_COOKIE",
        "headers": {"X-Extra": "1"},
        "user_agent": "koubei-test/1.0 (+contact)",
    }
    (result,) = collect(store_factory, settings_for({"jd": options}))
    assert result.ok
    request = next(r for r, _ in served.log if r.path.startswith("/jd/"))
    assert request.headers["Referer"] == "https://item.jd.com/2667959.html"
    assert request.headers["Cookie"] == "pin=test; thor=abc"
    assert request.headers["X-Extra"] == "1" and request.headers["User-Agent"] == "koubei-test/1.0 (+contact)"


def test_missing_cookie_variable_is_a_clear_config_error(
    served: HTTPServer, store_factory: Callable[[], Store]
) -> None:
    options = {**source_options(served)["weibo"], "cookie_env": "KOUBEI_TEST_UNSET_COOKIE"}
    (result,) = collect(store_factory, settings_for({"weibo": options}))
    assert result.error_kind == "config" and "KOUBEI_TEST_UNSET_COOKIE" in (result.error or "")


def test_weibo_truncated_post_gets_its_full_text(served: HTTPServer, store_factory: Callable[[], Store]) -> None:
    (result,) = collect(store_factory, settings_for({"weibo": source_options(served)["weibo"]}))
    assert result.ok
    with store_factory() as store:
        texts = [r[0] for r in store.query("SELECT text FROM mentions WHERE native_id LIKE '53213000%'")]
    assert texts and all("打了三次电话" in t and "全文</a>" not in t for t in texts)
    assert any(r.path == "/weibo/statuses/extend" for r, _ in served.log)


def test_hackernews_rerun_asks_only_for_newer_hits(served: HTTPServer, store_factory: Callable[[], Store]) -> None:
    settings = settings_for({"hackernews": source_options(served)["hackernews"]})
    collect(store_factory, settings)
    served.log.clear()
    collect(store_factory, settings)
    ((request, _),) = [(r, s) for r, s in served.log if r.path.startswith("/hackernews/")]
    assert request.args["numericFilters"].startswith("created_at_i>")


@pytest.mark.parametrize("kind", ["jd", "bilibili", "reddit"])
def test_crash_mid_run_loses_nothing_and_rerun_duplicates_nothing(
    kind: str, served: HTTPServer, any_store_factory: Callable[[], Store]
) -> None:
    config = parse_source(kind, source_options(served)[kind])
    collector = build_collector(config, any_store_factory)
    original = collector.pages
    calls = {"n": 0}

    def dying_pages() -> Any:
        for page in original():
            if calls["n"] == 1:
                raise RuntimeError("simulated crash mid-run")
            calls["n"] += 1
            yield page

    collector.pages = dying_pages  # type: ignore[method-assign]
    crashed = run_collector(collector, any_store_factory)
    assert not crashed.ok and "simulated crash" in (crashed.error or "") and crashed.pages == 1
    (per_page,) = DEMOS[kind].per_page
    stored_after_crash = _count(any_store_factory, kind)
    assert stored_after_crash == per_page
    with any_store_factory() as store:
        cursor = get_cursors(store, kind, Cursor)
    # The high-water mark has not moved: the first run never finished its walk.
    assert all(state.newest is None for state in cursor.values())

    (rerun,) = collect(any_store_factory, settings_for({kind: source_options(served)[kind]}))
    assert rerun.ok and rerun.pages == 3
    assert _count(any_store_factory, kind) == 3 * per_page  # everything, once
    assert rerun.unchanged == per_page  # the page stored before the crash, merged not duplicated


# The saved responses byte for byte, each at the path its collector asks for.
RAW = [
    ("jd", "jd_comments.jsonp", "/jd/comment/productPageComments.action", "text/html;charset=utf-8", 2),
    ("jd", "jd_comments.json", "/jd/comment/productPageComments.action", "application/json", 2),
    ("weibo", "weibo_search.json", "/weibo/api/container/getIndex", "application/json", 2),
    ("weibo", "weibo_getindex_timeline.json", "/weibo/api/container/getIndex", "application/json", 2),
    ("bilibili", "bilibili_replies.json", "/bilibili/x/v2/reply", "application/json", 4),
    ("douban", "douban_comments.html", "/douban/subject/26934346/comments", "text/html", 4),
    (
        "appstore",
        "appstore_reviews.json",
        "/appstore/cn/rss/customerreviews/page=1/id=1592550875/sortby=mostrecent/json",
        "application/json",
        2,
    ),
    (
        "appstore",
        "appstore_reviews_jp_2020.json",
        "/appstore/cn/rss/customerreviews/page=1/id=1592550875/sortby=mostrecent/json",
        "application/json",
        3,
    ),
    ("hackernews", "hn_algolia.json", "/hackernews/api/v1/search_by_date", "application/json", 1),
    ("reddit", "reddit_listing.json", "/reddit/search.json", "application/json", 1),
    ("feed", "news_rss.xml", "/feed/rss.xml", "application/rss+xml", 2),
    ("feed", "news_atom.xml", "/feed/atom.xml", "application/atom+xml", 1),
]


@pytest.mark.parametrize(("kind", "name", "path", "content_type", "expected"), RAW, ids=[r[1] for r in RAW])
def test_each_collector_reads_its_saved_response_verbatim(
    kind: str,
    name: str,
    path: str,
    content_type: str,
    expected: int,
    httpserver: HTTPServer,
    fixtures_dir: Any,
    store_factory: Callable[[], Store],
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    httpserver.expect_request(path).respond_with_data((fixtures_dir / name).read_bytes(), content_type=content_type)
    options = {**source_options(httpserver)[kind], "max_pages": 1}
    if kind == "weibo":
        options["full_text"] = False
    if kind == "feed":
        options["feeds"] = [httpserver.url_for(path)]
    (result,) = collect(store_factory, settings_for({kind: options}))
    assert result.ok, result.error
    assert result.inserted == expected and _count(store_factory, kind) == expected
