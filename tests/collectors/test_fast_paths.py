"""The speed work on the parsers keeps their results: JD's undecoded-bytes path, and the paused
cycle collector around page parsing."""

from __future__ import annotations

import codecs
import gc
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.base import ParseContext
from collectors.paging import HttpCollector
from collectors.sources import bilibili, hackernews, jd, reddit, weibo
from collectors.sources.appstore import AppStoreCollector
from collectors.sources.bilibili import BilibiliCollector
from collectors.sources.hackernews import HackerNewsCollector
from collectors.sources.jd import JdCollector
from collectors.sources.reddit import RedditCollector
from collectors.sources.weibo import WeiboCollector
from collectors.text import china_local, gc_paused
from koubei.errors import ParseError

JSON_SOURCES: dict[type[HttpCollector], str] = {
    JdCollector: "jd_comments.jsonp",
    WeiboCollector: "weibo_search.json",
    BilibiliCollector: "bilibili_replies.json",
    AppStoreCollector: "appstore_reviews.json",
    HackerNewsCollector: "hn_algolia.json",
    RedditCollector: "reddit_listing.json",
}


def _fields(mentions: list) -> list[tuple]:
    return [
        (m.native_id, m.text, m.published_at, m.url, m.author, m.rating, m.likes, m.replies, m.raw) for m in mentions
    ]


@pytest.mark.parametrize("source", list(JSON_SOURCES), ids=lambda c: c.name)
def test_bytes_and_text_bodies_give_the_same_mentions(source: type[HttpCollector], fixtures_dir: Path) -> None:
    body = (fixtures_dir / JSON_SOURCES[source]).read_bytes()
    as_bytes = source.parse(body)
    assert as_bytes and _fields(as_bytes) == _fields(source.parse(body.decode("utf-8")))


@pytest.mark.parametrize("name", ["jd_comments.jsonp", "jd_comments.json"])
def test_jd_bytes_with_bom_whitespace_or_gbk_parse_like_text(name: str, fixtures_dir: Path) -> None:
    text = (fixtures_dir / name).read_text(encoding="utf-8")
    expected = _fields(JdCollector.parse(text))
    assert _fields(JdCollector.parse(codecs.BOM_UTF8 + text.encode("utf-8"))) == expected
    assert _fields(JdCollector.parse(b"\n  " + text.encode("utf-8") + b"\n")) == expected
    assert _fields(JdCollector.parse(text.encode("gbk"))) == expected


def test_jd_truncated_jsonp_bytes_still_name_the_problem(fixtures_dir: Path) -> None:
    body = (fixtures_dir / "jd_comments.jsonp").read_bytes()
    with pytest.raises(ParseError, match="malformed JSON from page 3"):
        JdCollector.parse(body[: len(body) // 2], origin="page 3")


def test_gc_is_paused_while_a_page_parses_and_resumed_after(fixtures_dir: Path) -> None:
    seen = []

    @gc_paused
    def parse(body: bytes) -> list:
        seen.append(gc.isenabled())
        return JdCollector.parse(body)

    assert gc.isenabled()
    assert parse((fixtures_dir / "jd_comments.json").read_bytes())
    assert seen == [False] and gc.isenabled()


def test_gc_resumes_after_a_parse_error_and_stays_off_if_it_was_off() -> None:
    with pytest.raises(ParseError):
        JdCollector.parse(b"{not json")
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(ParseError):
            JdCollector.parse(b"{not json")
        assert not gc.isenabled()
    finally:
        gc.enable()


def _generic_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jd._PAGE, "decode", lambda body: None)


PARTIAL = [
    (JdCollector, jd._PAGE, "jd_comments.jsonp"),
    (JdCollector, jd._PAGE, "jd_comments.json"),
    (RedditCollector, reddit._LISTING, "reddit_listing.json"),
    (BilibiliCollector, bilibili._ANSWER, "bilibili_replies.json"),
    (HackerNewsCollector, hackernews._ANSWER, "hn_algolia.json"),
]


@pytest.mark.parametrize("source, partial, name", PARTIAL, ids=[p[2] for p in PARTIAL])
def test_partial_decode_matches_the_full_parse(
    source: type[HttpCollector], partial: Any, name: str, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shape that left out a field the parser reads would show here as a difference."""
    body = (fixtures_dir / name).read_bytes()
    decoded: list[Any] = []

    def recording(body: bytes | str, decode: Any = partial.decode) -> Any:
        decoded.append(decode(body))
        return decoded[-1]

    monkeypatch.setattr(partial, "decode", recording)
    fast = source.read_page(body, ParseContext(source.name))
    assert decoded and decoded[0] is not None  # the partial decode is the path taken
    monkeypatch.setattr(partial, "decode", lambda body: None)
    full = source.read_page(body, ParseContext(source.name))
    assert fast[0] and fast == full and _fields(fast[0]) == _fields(full[0])


def test_jd_partial_decode_keeps_missing_null_and_odd_fields_as_the_full_parse_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    comments = [
        {
            "id": 1,
            "content": "好<br/>用",
            "creationTime": "2026-11-01 08:00:00",
            "score": 5,
            "nickname": None,
            "images": [{"imgUrl": "//x"}],
            "guid": None,
            "days": "3",
        },
        {
            "id": "2",
            "creationTime": "2026-11-01 08:00:01",
            "replyCount": "7",
            "afterUserComment": {"created": "2026-11-03 09:00:00", "hAfterUserComment": {"content": "追加&amp;好"}},
        },
    ]
    body = orjson.dumps({"comments": comments, "maxPage": "12", "other": {"deep": [1, 2]}})
    fast = JdCollector.read_page(body, ParseContext("jd"))
    _generic_only(monkeypatch)
    generic = JdCollector.read_page(body, ParseContext("jd"))
    assert fast == generic and _fields(fast[0]) == _fields(generic[0]) and fast[1] == 12
    assert fast[0][0].raw == {"id": 1, "guid": None, "creationTime": "2026-11-01 08:00:00", "score": 5, "days": "3"}


@pytest.mark.parametrize(
    "body, error",
    [
        (b"{}", "answered {}"),
        (b'{"productCommentSummary": {}}', "no 'comments' key"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"comments": {"id": 1}}', "'comments' is dict, not a list"),
    ],
)
def test_jd_bodies_the_partial_decode_refuses_still_get_their_precise_error(body: bytes, error: str) -> None:
    with pytest.raises(Exception, match=re.escape(error)):
        JdCollector.parse(body)


moments = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2090, 12, 31),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
    ),
)


@settings(max_examples=300, deadline=None)
@given(moments)
def test_fast_time_parsers_give_the_instant_strptime_gives(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    now = datetime(2091, 1, 1, tzinfo=UTC)
    weibo_form = moment.strftime("%a %b %d %H:%M:%S %z %Y")
    assert weibo.parse_time(weibo_form, now) == datetime.strptime(weibo_form, "%a %b %d %H:%M:%S %z %Y")
    assert weibo.parse_time(weibo_form, now).utcoffset() == timedelta(0)
    beijing = moment.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
    expected = datetime.strptime(beijing, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone(timedelta(hours=8)))
    assert china_local(beijing, "t", "jd") == expected == moment
