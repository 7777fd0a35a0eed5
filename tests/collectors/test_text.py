"""Mention text keeps what people wrote: plain-text fields are only whitespace-normalised, and
HTML fields go through a real HTML parser (bug: a `<[^>]*>` regex over every field ate text)."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.sources.bilibili import BilibiliCollector
from collectors.sources.feed import FeedCollector
from collectors.sources.hackernews import HackerNewsCollector
from collectors.sources.jd import JdCollector
from collectors.sources.reddit import RedditCollector
from collectors.sources.weibo import WeiboCollector
from collectors.text import html_to_text, plain_text
from koubei.records import Mention

REVIEW = "续航<5小时，充电>2小时，差评"
KAOMOJI = "好评<(￣︶￣)>"

# Pieces of text that look like markup, entities or odd whitespace, drawn often among any characters.
TAGS = ["<b>", "</p>", "<br/>", "<img alt=x>", "<!--", "-->", "&amp;", "&lt;", "&#39;", "&nbsp;"]
LOOKALIKES = ["<", ">", "&", ";", "<5", "<(￣︶￣)>", "a > b", " ", "  ", "\t", "\n", "\r\n", "\u3000", "\u00a0"]
MARKUP = re.compile(r"<[A-Za-z!/?]|&#?\w+;")  # a tag, comment or declaration opens; an entity


def texts(pieces: list[str], characters: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces) | characters, max_size=40).map("".join)


# Lone surrogates are left out: no JSON body can carry them (orjson refuses the page).
any_text = texts(TAGS + LOOKALIKES, st.characters(exclude_categories=["Cs"]))
no_markup = texts(LOOKALIKES, st.characters(exclude_categories=["Cs"])).filter(lambda s: not MARKUP.search(s))
# What an XML document (a feed) can hold: no control characters besides tab, newline and return.
xml_text = texts(LOOKALIKES, st.characters(exclude_categories=["Cs", "Cc"], include_characters="\t\n\r"))


def words(text: str) -> list[str]:
    return text.split()


def lines(text: str) -> list[list[str]]:
    """The documented normalisation keeps each line's words and drops blank lines."""
    return [line.split() for line in text.split("\n") if line.split()]


def jd_page(content: str, follow_up: str | None = None) -> bytes:
    comment: dict[str, Any] = {"id": 1, "content": content, "creationTime": "2026-11-01 08:00:00", "score": 1}
    if follow_up is not None:
        comment["afterUserComment"] = {"created": "2026-11-03 09:00:00", "hAfterUserComment": {"content": follow_up}}
    return json.dumps({"comments": [comment], "maxPage": 1}, ensure_ascii=False).encode("utf-8")


def bilibili_page(message: str, fixtures_dir: Path) -> bytes:
    data = json.loads((fixtures_dir / "bilibili_replies.json").read_text(encoding="utf-8"))
    reply = data["data"]["replies"][0]
    reply["content"]["message"], reply["replies"] = message, []
    data["data"]["replies"] = [reply]
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def reddit_page(selftext: str, fixtures_dir: Path) -> bytes:
    data = json.loads((fixtures_dir / "reddit_listing.json").read_text(encoding="utf-8"))
    data["data"]["children"][0]["data"].update(title="", selftext=selftext)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def weibo_page(text: str, fixtures_dir: Path) -> bytes:
    data = json.loads((fixtures_dir / "weibo_search.json").read_text(encoding="utf-8"))
    card = data["data"]["cards"][0]
    card["mblog"].update(text=text, isLongText=False)
    data["data"]["cards"] = [card]
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def hn_page(comment_html: str, fixtures_dir: Path) -> bytes:
    data = json.loads((fixtures_dir / "hn_algolia.json").read_text(encoding="utf-8"))
    hit = data["hits"][0]
    hit.update(title=None, story_title=None, story_text=None, comment_text=comment_html)
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def rss(title: str, description: str) -> bytes:
    """An RSS item; both fields XML-escaped, as a feed carries them."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{xml_escape(title)}</title><link>https://example.com/1</link><guid>1</guid>"
        "<pubDate>Fri, 25 Sep 2026 13:53:48 GMT</pubDate>"
        f"<description>{xml_escape(description)}</description></item></channel></rss>"
    ).encode()


def only(mentions: list[Mention]) -> str:
    (mention,) = mentions
    return mention.text


# ---------------------------------------------------------------- the examples, per source


@pytest.mark.parametrize("text", [REVIEW, KAOMOJI])
def test_plain_text_fields_keep_angle_brackets(text: str, fixtures_dir: Path) -> None:
    """Bug: html_to_text's tag regex ran over plain-text fields, so `续航<5小时，充电>2小时，差评`
    became `续航2小时，差评` and kaomoji such as `<(￣︶￣)>` vanished."""
    assert only(JdCollector.parse(jd_page(text))) == text
    assert only(JdCollector.parse(jd_page("好", follow_up=text))) == f"好\n追评：{text}"
    assert only(BilibiliCollector.parse(bilibili_page(text, fixtures_dir))) == text
    assert only(RedditCollector.parse(reddit_page(text, fixtures_dir))) == text
    assert only(FeedCollector.parse(rss(text, "x"))).startswith(f"{text}\n")  # an RSS title is plain text


@pytest.mark.parametrize("text", [REVIEW, KAOMOJI])
def test_html_fields_keep_escaped_and_bare_angle_brackets(text: str, fixtures_dir: Path) -> None:
    """The same texts in fields that are HTML: escaped, and bare beside real markup (read as a
    browser reads them), through a real HTML parser."""
    escaped = html.escape(text)
    assert only(WeiboCollector.parse(weibo_page(escaped, fixtures_dir))) == text
    assert only(HackerNewsCollector.parse(hn_page(f"<p>{escaped}</p>", fixtures_dir))) == text
    assert only(FeedCollector.parse(rss("t", f"<b>{escaped}</b>"))) == f"t\n{text}"
    bare = f'{text}<span class="url-icon"><img alt="[怒]" src="x.png"></span>'
    assert only(WeiboCollector.parse(weibo_page(bare, fixtures_dir))) == f"{text}[怒]"
    assert html_to_text(f"<p>{text}</p><p>第二段</p>") == f"{text}\n第二段"


def test_real_html_keeps_todays_reading() -> None:
    fragment = (
        '刚收到<span class="kw">测试品牌</span>的耳机<img alt="[赞]" src="a.png">'
        "<script>var x = '<b>';</script><style>b{}</style>&amp;<br />第二行&nbsp;&nbsp;尾</p>"
    )
    assert html_to_text(fragment) == "刚收到测试品牌的耳机[赞]&\n第二行 尾"
    assert html_to_text("<!-- only a comment -->") == ""
    assert html_to_text("1 &lt; 2 &amp;&amp; 3 &gt; 2") == "1 < 2 && 3 > 2"


def test_paragraphs_are_not_glued_together() -> None:
    """Bug: only closing </p>, </div>, </li> made a line break, so Hacker News text
    (paragraphs opened by <p>, never closed) read "the data [...]For example"."""
    assert html_to_text("the data [...]<p>For example, say") == "the data [...]\nFor example, say"
    assert html_to_text("尾<div>块</div>下一行") == "尾\n块\n下一行"


# ---------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_plain_text_keeps_every_character_but_whitespace_runs(text: str) -> None:
    """Documented normalisation: runs of spaces become one, blank lines and the spaces around a
    line break go, the ends are trimmed; every other character stays where it was."""
    out = plain_text(text)
    assert words(out) == words(text) and lines(out) == lines(text)
    assert out == out.strip() and "\n\n" not in out


@settings(max_examples=150, deadline=None)
@given(any_text)
def test_plain_text_paths_of_the_json_sources_keep_every_character(text: str) -> None:
    # JD writes a literal & as &amp; (its content is entity-escaped text): it comes back whole.
    assert lines(only(JdCollector.parse(jd_page(text.replace("&", "&amp;"))))) == lines(text)


@settings(max_examples=100, deadline=None)
@given(any_text)
def test_bilibili_and_reddit_plain_text_keep_every_character(text: str) -> None:
    from tests.conftest import SHARED

    fixtures = SHARED / "fixtures" / "sources"
    assert lines(only(BilibiliCollector.parse(bilibili_page(text, fixtures)))) == lines(text)
    parsed = RedditCollector.parse(reddit_page(text, fixtures))
    assert lines(parsed[0].text if parsed else "") == lines(text)


def is_mojibake(text: str) -> bool:
    """UTF-8 read as Latin-1 ("Ã©" for "é"): feedparser repairs a field made only of that (once trimmed)."""
    try:
        return text.strip().encode("latin-1").decode("utf-8") != text.strip()
    except UnicodeError:
        return False


@settings(max_examples=100, deadline=None)
@given(xml_text.filter(lambda s: not MARKUP.search(s) and s.strip() and not is_mojibake(s)))
def test_feed_titles_without_markup_keep_every_character(title: str) -> None:
    assert words(only(FeedCollector.parse(rss(title, "")))) == words(title)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_text_escaped_into_html_comes_back_whole(text: str) -> None:
    escaped = html.escape(text)
    assert lines(html_to_text(escaped)) == lines(text)
    # Inside markup the parser reads it too. Words: an HTML parser reads a lone CR as a line
    # break, and NUL as U+FFFD, as browsers do.
    assert words(html_to_text(f"<p>{escaped}</p><br>")) == words(text.replace("\x00", "\ufffd"))


@settings(max_examples=100, deadline=None)
@given(no_markup)
def test_html_fields_without_markup_keep_every_character(text: str) -> None:
    from tests.conftest import SHARED

    fixtures = SHARED / "fixtures" / "sources"
    assert lines(html_to_text(text)) == lines(text)
    assert lines(only(WeiboCollector.parse(weibo_page(text, fixtures), now=datetime.now(UTC)))) == lines(text)
    assert words(only(HackerNewsCollector.parse(hn_page(html.escape(text), fixtures)))) == words(text)


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_html_to_text_reads_any_fragment(fragment: str) -> None:
    """Broken markup is read, never an exception that would fail the page."""
    assert isinstance(html_to_text(fragment), str)
