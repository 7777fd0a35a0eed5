"""One bad item never fails a whole source (issue 17, item 8): each item is parsed on its own
against its source's typed schema; a bad one is skipped with an error naming the source, the
page, the item and the field, counted in the source's health, and the rest of the page is kept."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from collectors.base import ParseContext, registry
from collectors.demo.server import DemoSite
from collectors.items import RawFields, parse_items
from collectors.runner import collect
from collectors.sources.html import DEMO_SELECTORS
from collectors.sources.jd import unwrap_jsonp
from koubei.errors import LayoutChanged
from storage import Store
from storage.health import recent_runs, source_health
from tests.collectors.conftest import Fault, settings_for, source_options

PAGE = "https://example.com/page"


def _set(doc: Any, path: tuple[str | int, ...], value: Any) -> Any:
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def _json_case(name: str, path: tuple[str | int, ...], value: Any) -> Callable[[Path], bytes]:
    def body(fixtures: Path) -> bytes:
        doc = json.loads((fixtures / name).read_text(encoding="utf-8"))
        return json.dumps(_set(doc, path, value), ensure_ascii=False).encode()

    return body


def _text_case(name: str, old: str, new: str) -> Callable[[Path], bytes]:
    def body(fixtures: Path) -> bytes:
        return (fixtures / name).read_text(encoding="utf-8").replace(old, new, 1).encode()

    return body


def _first_entry_without_text(fixtures: Path) -> bytes:
    feed = (fixtures / "news_rss.xml").read_text(encoding="utf-8")
    first = re.search(r"<item>.*?</item>", feed)
    assert first is not None
    emptied = re.sub(r"<(title|description)>.*?</\1>", r"<\1></\1>", first.group())
    return (feed[: first.start()] + emptied + feed[first.end() :]).encode()


# kind, the fixture with its first item broken, the items the fixture has, the item and field named
CASES = [
    ("jd", _json_case("jd_comments.json", ("comments", 0, "content"), 12345), 2, "comments[0]", "content"),
    ("jd", _json_case("jd_comments.json", ("comments", 0, "id"), ""), 2, "comments[0]", "id"),
    (
        "weibo",
        _json_case("weibo_search.json", ("data", "cards", 0, "mblog", "created_at"), ["Thu"]),
        2,
        "cards[0].mblog",
        "created_at",
    ),
    (
        "bilibili",
        _json_case("bilibili_replies.json", ("data", "replies", 0, "ctime"), "昨天"),
        4,
        "data.replies[0]",
        "ctime",
    ),
    (
        "appstore",
        _json_case("appstore_reviews.json", ("feed", "entry", 0, "im:rating"), {"label": 5}),
        2,
        "feed.entry[0]",
        "im:rating.label",
    ),
    ("hackernews", _json_case("hn_algolia.json", ("hits", 0, "objectID"), None), 1, "hits[0]", "objectID"),
    (
        "reddit",
        _json_case("reddit_listing.json", ("data", "children", 0, "data", "created_utc"), {"t": 1}),
        1,
        "data.children[0]",
        "data.created_utc",
    ),
    (
        "douban",
        _text_case("douban_comments.html", 'class="comment-time "', 'class="when"'),
        4,
        ".comment-item[0]",
        "time",
    ),
    ("html", _text_case("douban_comments.html", 'class="comment-time "', 'class="when"'), 4, "item 1", "time"),
    ("feed", _first_entry_without_text, 2, "entry[0]", "title"),
]


@pytest.mark.parametrize(("kind", "body", "items", "place", "field"), CASES, ids=[f"{c[0]}-{c[4]}" for c in CASES])
def test_a_bad_item_is_skipped_and_named_and_the_rest_kept(
    kind: str, body: Callable[[Path], bytes], items: int, place: str, field: str, fixtures_dir: Path
) -> None:
    """Bug: a wrong-typed field or an empty id raised TypeError or ParseError and lost the page."""
    options = {"selectors": DEMO_SELECTORS} if kind == "html" else {}
    context = ParseContext(kind, origin=PAGE, options=options)
    mentions, _ = registry()[kind].read_page(body(fixtures_dir), context)  # type: ignore[attr-defined]
    assert len(mentions) == items - 1
    (error,) = context.errors
    assert (error.source, error.page, error.item) == (kind, PAGE, place) or error.item.startswith(place)
    assert field in error.field or field in error.problem
    assert str(error).startswith(f"{kind}: {error.item} from {PAGE}: ")


# kind, its fixture, the field of its first item given a value nested 3,000 deep, the items it has
DEEP_CASES = [
    ("jd", "jd_comments.json", ("comments", 0, "content"), 2),
    ("weibo", "weibo_search.json", ("data", "cards", 0, "mblog", "text"), 2),
    ("bilibili", "bilibili_replies.json", ("data", "replies", 0, "content", "message"), 4),
    ("appstore", "appstore_reviews.json", ("feed", "entry", 0, "content", "label"), 2),
    ("hackernews", "hn_algolia.json", ("hits", 0, "story_title"), 1),
    ("reddit", "reddit_listing.json", ("data", "children", 0, "data", "title"), 1),
]


@pytest.mark.parametrize(("kind", "name", "path", "items"), DEEP_CASES, ids=[c[0] for c in DEEP_CASES])
def test_an_item_nested_too_deeply_is_skipped_and_the_rest_kept(
    kind: str, name: str, path: tuple[str | int, ...], items: int, fixtures_dir: Path
) -> None:
    """Bug: one item holding a value nested past the JSON decoder's depth failed the whole page
    (RecursionError, then "malformed JSON: depth limit exceeded"): nothing of it was stored."""
    doc = _set(json.loads((fixtures_dir / name).read_text(encoding="utf-8")), path, "\x02deep\x02")
    deep = '{"a": "[{\\"]", "b": ' + "[" * 3000 + "]" * 3000 + "}"  # brackets in a string too
    body = json.dumps(doc, ensure_ascii=False).replace('"\\u0002deep\\u0002"', deep).encode()
    assert body.count(b"[" * 3000) == 1
    context = ParseContext(kind, origin=PAGE)
    mentions, _ = registry()[kind].read_page(body, context)  # type: ignore[attr-defined]
    assert len(mentions) == items - 1
    (error,) = context.errors
    assert error.field.endswith(str(path[-1])) and "got `object`" in error.problem, error


def test_a_page_on_which_every_item_fails_is_a_layout_change() -> None:
    context = ParseContext("jd", origin=PAGE)
    comments = [{"id": i, "creationTime": 20260101} for i in range(3)]
    with pytest.raises(LayoutChanged, match=r"every item of the page failed \(3\).*creationTime"):
        registry()["jd"].read_page(json.dumps({"comments": comments}), context)  # type: ignore[attr-defined]
    assert len(context.errors) == 3


def test_raw_keeps_plain_values_and_never_the_personal_fields() -> None:
    raw = RawFields(keep=("a", "b", "c", "d", "who", "tags"), personal=("who",), personal_tags=(("tags", "author_"),))
    item = {
        "a": 2**70,
        "b": {"deep": 1},
        "c": "\ud800x",
        "d": float("nan"),
        "who": "张三",
        "tags": ["story", "author_zs"],
    }
    assert raw.of(item) == {"a": str(2**70), "c": "?x", "d": None, "tags": ["story"]}


def test_counts_past_64_bits_are_a_bad_item_not_a_failed_batch() -> None:
    hit = json.loads('{"hits": [{"objectID": "1", "created_at_i": 1700000000, "points": 1e30}], "nbPages": 1}')
    hit["hits"][0]["points"] = 2**70
    context = ParseContext("hackernews", origin=PAGE)
    assert registry()["hackernews"].read_page(json.dumps(hit), context)[0] == []  # type: ignore[attr-defined]
    assert [(e.field, e.problem) for e in context.errors] == [("likes", f"{2**70} is out of range")]


def test_parse_items_reports_what_the_build_refuses() -> None:
    context = ParseContext("x", origin=PAGE)
    kept = parse_items(context, [("a", 1), ("b", "two")], lambda typed, item: None, int)
    assert kept == [] and [e.item for e in context.errors] == ["b"]
    assert context.errors[0].problem.startswith("expected `int`, got `str`")


def _jd_with_a_bad_comment(site: DemoSite) -> Fault:
    """JD's answer with its first comment's text an int (GBK JSONP, as the demo serves it)."""

    def fault(request: Request) -> Response:
        status, content_type, body = site.route(request.path, dict(request.args.items()))
        text = body.decode("gb18030")
        callback = text[: text.index("(")]
        data = json.loads(unwrap_jsonp(text))
        if data["comments"]:
            data["comments"][0]["content"] = 12345
        return Response(
            f"{callback}({json.dumps(data, ensure_ascii=False)});".encode("gb18030"), status, content_type=content_type
        )

    return fault


def test_collect_stores_the_rest_of_the_page_and_counts_the_bad_item_in_health(
    served: HTTPServer, faults: dict[str, Fault], site: DemoSite, store_factory: Callable[[], Store]
) -> None:
    """Bug: during `collect` one bad item failed the whole source with kind "bug", every run, storing nothing."""
    faults["/jd/"] = _jd_with_a_bad_comment(site)
    (result,) = collect(store_factory, settings_for({"jd": source_options(served)["jd"]}))
    assert result.ok and result.error_kind is None
    pages = site.pages
    assert result.inserted == pages  # two comments a page, the first of each skipped
    assert result.item_errors == pages
    with store_factory() as store:
        (health,) = [h for h in source_health(store) if h.source == "jd"]
        (run,) = recent_runs(store, "jd")
    assert health.status == "ok" and health.last_item_errors == pages
    assert health.last_item_error and re.search(
        r"^jd: comments\[0\] from http://127\.0\.0\.1:\d+/jd/.*: content: expected", health.last_item_error
    )
    assert (run.item_errors, run.item_error) == (pages, health.last_item_error)
