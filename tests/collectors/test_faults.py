"""Fault injection: each failure ends as a clear error in source health, keeps what was
stored, and lets the other sources collect."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from collectors.runner import RunResult, collect
from storage import Store
from storage.cursors import Cursor, get_cursors
from storage.health import SourceHealth, source_health
from tests.collectors.conftest import Fault, settings_for, source_options


def _count(store_factory: Callable[[], Store], source: str) -> int:
    with store_factory() as store:
        return store.query("SELECT count(*) FROM mentions WHERE source = ?", [source])[0][0]


def _health(store_factory: Callable[[], Store], source: str) -> SourceHealth:
    with store_factory() as store:
        return next(row for row in source_health(store) if row.source == source)


def _pair(served: HTTPServer, faulty: str, healthy: str = "bilibili", **overrides: Any) -> dict:
    options = source_options(served)
    return {faulty: {**options[faulty], **overrides}, healthy: options[healthy]}


def _run_with_fault(
    served: HTTPServer,
    faults: dict[str, Fault],
    store_factory: Callable[[], Store],
    faulty: str,
    prefix: str,
    fault: Fault,
    **overrides: Any,
) -> tuple[int, RunResult, RunResult]:
    """Collect once cleanly, inject the fault, collect again with a healthy neighbour."""
    faults.clear()
    clean = collect(store_factory, settings_for({faulty: source_options(served)[faulty]}))
    assert clean[0].ok, clean[0].error
    stored = _count(store_factory, faulty)
    faults[prefix] = fault
    bad, good = collect(store_factory, settings_for(_pair(served, faulty, **overrides)))
    assert good.ok and good.items > 0, "the other source must still be collected"
    assert _count(store_factory, faulty) == stored, "nothing already stored may be lost"
    return stored, bad, good


def always(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Fault:
    return lambda request: Response(body, status=status, headers=headers or {})


def test_http_500_that_outlasts_retries(served: HTTPServer, faults: dict, store_factory: Callable[[], Store]) -> None:
    _, bad, _ = _run_with_fault(served, faults, store_factory, "jd", "/jd/", always(500, b"oops"))
    assert bad.error_kind == "unavailable"
    assert "HTTP 500" in (bad.error or "") and "/jd/comment/productPageComments.action" in (bad.error or "")
    assert "gave up after 2 attempts" in (bad.error or "")
    health = _health(store_factory, "jd")
    assert health.status == "error" and health.last_error == bad.error and health.last_success_at
    assert health.consecutive_failures == 1 and health.last_error_kind == "unavailable"


def test_http_500_once_is_retried(served: HTTPServer, faults: dict, store_factory: Callable[[], Store]) -> None:
    failures = {"left": 1}

    def flaky(request: Request) -> Response | None:
        if failures["left"]:
            failures["left"] -= 1
            return Response(b"busy", status=503)
        return None

    faults["/jd/"] = flaky
    (result,) = collect(store_factory, settings_for({"jd": source_options(served)["jd"]}))
    assert result.ok and result.inserted == 6


def test_429_honours_retry_after(served: HTTPServer, faults: dict, store_factory: Callable[[], Store]) -> None:
    answered: list[float] = []

    def limited(request: Request) -> Response | None:
        answered.append(time.monotonic())
        if len(answered) == 1:
            return Response(b"slow down", status=429, headers={"Retry-After": "1"})
        return None

    faults["/reddit/"] = limited
    (result,) = collect(store_factory, settings_for({"reddit": source_options(served)["reddit"]}))
    assert result.ok and result.inserted == 3
    assert answered[1] - answered[0] >= 0.95  # waited the server's Retry-After, not the 0.01 s backoff


def test_429_with_a_long_retry_after_gives_up_at_once(
    served: HTTPServer, faults: dict, store_factory: Callable[[], Store]
) -> None:
    started = time.monotonic()
    _, bad, _ = _run_with_fault(
        served,
        faults,
        store_factory,
        "reddit",
        "/reddit/",
        always(429, b"", {"Retry-After": "3600"}),
        retry_after_max=5,
    )
    assert time.monotonic() - started < 5
    assert bad.error_kind == "unavailable" and "Retry-After 3600s" in (bad.error or "")


def test_response_slower_than_the_timeout(served: HTTPServer, faults: dict, store_factory: Callable[[], Store]) -> None:
    def slow(request: Request) -> Response | None:
        time.sleep(0.8)
        return None

    started = time.monotonic()
    _, bad, _ = _run_with_fault(served, faults, store_factory, "hackernews", "/hackernews/", slow, timeout=0.25)
    assert (
        bad.error_kind == "unavailable"
        and "timed out after 0.25s" in (bad.error or "")
        and "/hackernews/api/v1" in (bad.error or "")
    )
    assert time.monotonic() - started < 6


def test_truncated_json_on_page_two_keeps_page_one(
    served: HTTPServer, faults: dict, store_factory: Callable[[], Store]
) -> None:
    def truncated(request: Request) -> Response | None:
        if request.args.get("pn") == "2":
            return Response(
                b'{"code":0,"message":"0","data":{"page":{"num":2},"replies":[{"rpid":1,',
                status=200,
                content_type="application/json",
            )
        return None

    faults["/bilibili/"] = truncated
    options = source_options(served)
    bad, good = collect(store_factory, settings_for({"bilibili": options["bilibili"], "jd": options["jd"]}))
    assert good.ok and good.inserted == 6
    assert bad.error_kind == "parse" and bad.pages == 1 and bad.inserted == 4
    assert "malformed JSON" in (bad.error or "") and "pn=2" in (bad.error or "")
    assert _count(store_factory, "bilibili") == 4  # page one is stored
    with store_factory() as store:
        (state,) = get_cursors(store, "bilibili", Cursor).values()
    assert state.newest is None  # the walk did not finish: the mark stays, the rerun re-walks
    faults.clear()
    (rerun,) = collect(store_factory, settings_for({"bilibili": options["bilibili"]}))
    assert rerun.ok and _count(store_factory, "bilibili") == 12 and rerun.unchanged == 4


def test_changed_html_layout_is_an_error_not_silence(
    served: HTTPServer, faults: dict, store_factory: Callable[[], Store]
) -> None:
    redesigned = (
        "<html><head><title>短评</title></head><body><section class='reviews'>"
        "<article class='review-card' data-id='1'><div class='body'>电池发热</div></article>"
        "</section></body></html>"
    ).encode()
    page = always(200, redesigned, {"Content-Type": "text/html; charset=utf-8"})
    _, bad, _ = _run_with_fault(served, faults, store_factory, "douban", "/douban/", page)
    assert bad.error_kind == "layout" and "no .comment-item" in (bad.error or "") and "短评" in (bad.error or "")
    assert _health(store_factory, "douban").last_error_kind == "layout"
    _, bad_html, _ = _run_with_fault(served, faults, store_factory, "html", "/html/", page)
    assert bad_html.error_kind == "layout" and "'.comment-item' matched nothing" in (bad_html.error or "")


def test_gbk_body_with_and_without_charset(
    served: HTTPServer, faults: dict, store_factory: Callable[[], Store], site: object
) -> None:
    from collectors.demo.server import DemoSite

    assert isinstance(site, DemoSite)

    def gbk_without_header(request: Request) -> Response:
        _, _, body = site.route(request.path, dict(request.args.items()))
        return Response(body, status=200, content_type="application/javascript")  # no charset: sniffed

    faults["/jd/"] = gbk_without_header
    (result,) = collect(store_factory, settings_for({"jd": source_options(served)["jd"]}))
    assert result.ok and result.inserted == 6
    with store_factory() as store:
        texts = [r[0] for r in store.query("SELECT text FROM mentions WHERE source = 'jd'")]
    assert any(t.startswith("检查完了，本人是在广州使用") for t in texts)


def test_403_is_blocked_without_retrying(served: HTTPServer, faults: dict, store_factory: Callable[[], Store]) -> None:
    hits: list[str] = []

    def forbidden(request: Request) -> Response:
        hits.append(request.path)
        return Response(b"<html>Forbidden</html>", status=403)

    _, bad, _ = _run_with_fault(served, faults, store_factory, "weibo", "/weibo/api", forbidden)
    assert bad.error_kind == "blocked" and "HTTP 403" in (bad.error or "") and "refused" in (bad.error or "")
    assert len(hits) == 1
    assert _health(store_factory, "weibo").status == "error"


def test_empty_and_blocked_bodies(served: HTTPServer, faults: dict, store_factory: Callable[[], Store]) -> None:
    _, bad, _ = _run_with_fault(served, faults, store_factory, "reddit", "/reddit/", always(200, b""))
    assert bad.error_kind == "parse" and "empty body" in (bad.error or "")
    _, jd_bad, _ = _run_with_fault(
        served, faults, store_factory, "jd", "/jd/", always(200, b"fetchJSON_comment98({});")
    )
    assert jd_bad.error_kind == "blocked" and "answered {}" in (jd_bad.error or "")
    _, bili_bad, _ = _run_with_fault(
        served,
        faults,
        store_factory,
        "bilibili",
        "/bilibili/",
        always(200, b'{"code":0,"message":"0","ttl":1}'),
        healthy="jd",
    )
    assert bili_bad.error_kind == "parse" and "code 0 without data" in (bili_bad.error or "")


def test_one_bad_target_does_not_stop_the_others(
    served: HTTPServer, faults: dict, store_factory: Callable[[], Store]
) -> None:
    faults["/jd/"] = lambda request: (
        Response(b"gone", status=404) if request.args.get("productId") == "404404" else None
    )
    options = {**source_options(served)["jd"], "skus": ["404404", "2667959"]}
    (result,) = collect(store_factory, settings_for({"jd": options}))
    assert not result.ok and "HTTP 404" in (result.error or "") and "404404" in (result.error or "")
    assert result.inserted == 6  # the good SKU was collected and stored


def test_robots_txt_is_respected_unless_turned_off(
    httpserver: HTTPServer, store_factory: Callable[[], Store], site: object
) -> None:
    from tests.collectors.conftest import site_handler

    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /reddit/\n")
    import re

    httpserver.expect_request(re.compile(".*")).respond_with_handler(site_handler(site))  # type: ignore[arg-type]
    options = source_options(httpserver)
    (blocked,) = collect(store_factory, settings_for({"reddit": options["reddit"]}))
    assert blocked.error_kind == "blocked" and "robots.txt disallows" in (blocked.error or "")
    assert not any(r.path.startswith("/reddit/") for r, _ in httpserver.log)
    (allowed,) = collect(store_factory, settings_for({"reddit": {**options["reddit"], "robots": False}}))
    assert allowed.ok and allowed.inserted == 3


def test_a_stop_ends_a_retry_after_wait_at_once(
    served: HTTPServer, faults: dict, store_factory: Callable[[], Store]
) -> None:
    """Bug: a stopped `koubei watch` first sat out the wait of the source under way: a 429 with
    Retry-After 60 (under retry_after_max) held it a minute before it could exit. The wait ends
    when the stop is set, and the page fetched before it is stored."""
    stop = threading.Event()
    answered: list[str] = []

    def limited_after_one_page(request: Request) -> Response | None:
        answered.append(request.full_path)
        if len(answered) == 1:
            return None
        stop.set()  # SIGTERM arrives as the site starts to limit us
        return Response(b"slow down", status=429, headers={"Retry-After": "60"})

    faults["/jd/"] = limited_after_one_page
    started = time.monotonic()
    (result,) = collect(store_factory, settings_for({"jd": source_options(served)["jd"]}), stop=stop)
    assert time.monotonic() - started < 5
    assert len(answered) == 2 and result.error is None
    assert result.inserted == _count(store_factory, "jd") > 0  # the first page, kept
