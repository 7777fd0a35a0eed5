"""The speed work on the parsers keeps their results: JD's undecoded-bytes path, and the paused
cycle collector around page parsing."""

from __future__ import annotations

import codecs
import gc
from pathlib import Path

import pytest

from collectors import appstore, bilibili, hackernews, jd, reddit, weibo
from collectors.text import gc_paused
from koubei.errors import ParseError

JSON_SOURCES = {
    jd: "jd_comments.jsonp", weibo: "weibo_search.json", bilibili: "bilibili_replies.json",
    appstore: "appstore_reviews.json", hackernews: "hn_algolia.json", reddit: "reddit_listing.json",
}


def _fields(mentions: list) -> list[tuple]:
    return [(m.native_id, m.text, m.published_at, m.url, m.author, m.rating, m.likes, m.replies, m.raw)
            for m in mentions]


@pytest.mark.parametrize("module", list(JSON_SOURCES), ids=lambda m: m.NAME)
def test_bytes_and_text_bodies_give_the_same_mentions(module, fixtures_dir: Path) -> None:
    body = (fixtures_dir / JSON_SOURCES[module]).read_bytes()
    as_bytes = module.parse(body)
    assert as_bytes and _fields(as_bytes) == _fields(module.parse(body.decode("utf-8")))


@pytest.mark.parametrize("name", ["jd_comments.jsonp", "jd_comments.json"])
def test_jd_bytes_with_bom_whitespace_or_gbk_parse_like_text(name: str, fixtures_dir: Path) -> None:
    text = (fixtures_dir / name).read_text(encoding="utf-8")
    expected = _fields(jd.parse(text))
    assert _fields(jd.parse(codecs.BOM_UTF8 + text.encode("utf-8"))) == expected
    assert _fields(jd.parse(b"\n  " + text.encode("utf-8") + b"\n")) == expected
    assert _fields(jd.parse(text.encode("gbk"))) == expected


def test_jd_truncated_jsonp_bytes_still_name_the_problem(fixtures_dir: Path) -> None:
    body = (fixtures_dir / "jd_comments.jsonp").read_bytes()
    with pytest.raises(ParseError, match="malformed JSON from page 3"):
        jd.parse(body[: len(body) // 2], origin="page 3")


def test_gc_is_paused_while_a_page_parses_and_resumed_after(fixtures_dir: Path) -> None:
    seen = []

    @gc_paused
    def parse(body: bytes) -> list:
        seen.append(gc.isenabled())
        return jd.parse(body)

    assert gc.isenabled()
    assert parse((fixtures_dir / "jd_comments.json").read_bytes())
    assert seen == [False] and gc.isenabled()


def test_gc_resumes_after_a_parse_error_and_stays_off_if_it_was_off() -> None:
    with pytest.raises(ParseError):
        jd.parse(b"{not json")
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(ParseError):
            jd.parse(b"{not json")
        assert not gc.isenabled()
    finally:
        gc.enable()
