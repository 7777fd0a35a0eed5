"""Helpers every parser shares: fields to clean text (plain or HTML), times to UTC, JSON bodies."""

from __future__ import annotations

import contextlib
import functools
import gc
import html
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from lxml import etree

from koubei.errors import ParseError

if TYPE_CHECKING:
    from bs4 import Tag

_BEIJING_OFFSET = timedelta(hours=8)
# China has had no daylight saving since 1991: a fixed offset is exact and needs no tzdata.
CHINA = timezone(_BEIJING_OFFSET, "Asia/Shanghai")

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
# Where markup starts: a tag, an end tag, a comment or a declaration. A "<" before anything
# else ("<5小时", "<(￣︶￣)>") is text, to an HTML parser as to a browser.
_MARKUP = re.compile(r"<[A-Za-z!/?]")
# Elements a browser lays out on lines of their own; a line break where each starts and ends.
_BLOCKS = frozenset(("p", "div", "li", "dt", "dd", "tr", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"))
_parsers = threading.local()  # an lxml parser is not to be shared between threads


def plain_text(value: str | None) -> str:
    """A plain-text field as stored: whitespace normalised, every other character kept.

    The normalisation: runs of spaces and tabs (no-break and ideographic spaces too)
    become one space; line breaks stay, but blank lines and the spaces around a line
    break go; the ends are trimmed. "<", ">" and "&" are text like any other.
    """
    if not value:
        return ""
    text = value
    # Substring tests first: most texts need no regex.
    if (
        "  " in text
        or "\t" in text
        or "\r" in text
        or "\u3000" in text
        or "\u00a0" in text
        or "\f" in text
        or "\v" in text
    ):
        text = _SPACES.sub(" ", text)
    if "\n" in text:
        lines = (line.strip() for line in text.split("\n"))
        return "\n".join(line for line in lines if line)
    return text.strip()


def unescaped_text(value: str | None) -> str:
    """A plain-text field in which the site writes characters as HTML entities (&amp;,
    &hellip;): entities decoded, then `plain_text`. Nothing else is read as markup."""
    return plain_text(html.unescape(value) if value and "&" in value else value)


def html_to_text(fragment: str | None) -> str:
    """Clean text from an HTML field: read by lxml's HTML parser, tags dropped, emoji images
    kept as their alt text ([赞]), script and style dropped, a line break for <br> and around
    block elements, entities decoded, then `plain_text`'s whitespace normalisation.

    Only a fragment with markup is parsed (most are short and many have none): one
    without is entity-decoded only. The result is plain text; whoever shows it escapes it.
    """
    if not fragment:
        return ""
    if _MARKUP.search(fragment) is None:
        return unescaped_text(fragment)
    return plain_text(_parsed_text(fragment))


def _parsed_text(fragment: str) -> str:
    parser = getattr(_parsers, "html", None)
    if parser is None:
        parser = _parsers.html = etree.HTMLParser(
            encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True
        )
    # UTF-8 bytes: libxml2 reads them a third faster than a str with Chinese in it.
    root = etree.fromstring(fragment.encode("utf-8", "replace"), parser)
    if root is None:  # nothing but comments or declarations
        return ""
    if "<s" in fragment or "<S" in fragment:
        etree.strip_elements(root, "script", "style", with_tail=False)
    # Read, never written: lxml refuses to set text holding control characters.
    parts: list[str] = []
    add = parts.append
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag in _BLOCKS or tag == "br":
                add("\n")
            elif tag == "img":
                add(element.get("alt") or "")
            if element.text:
                add(element.text)
        else:
            if tag in _BLOCKS:
                add("\n")
            if element.tail and element is not root:
                add(element.tail)
    return "".join(parts)


def element_text(node: Tag | None) -> str:
    """The text of a parsed element (bs4): each text node on its own line, spaces collapsed,
    a space before a line break dropped; "" without an element."""
    return _SPACES.sub(" ", node.get_text("\n")).replace(" \n", "\n").strip() if node else ""


def from_epoch(value: Any, where: str, source: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise ParseError(source, f"{where}: {value!r} is not a Unix time") from None


def beijing_fast(value: Any) -> datetime | None:
    """'YYYY-MM-DD HH:MM:SS' in Beijing time, fast (it runs once per JD comment), or None
    for anything else, which china_local then reads or names."""
    if isinstance(value, str) and len(value) == 19 and value[10] == " " and value[4] == "-":
        try:
            # fromisoformat is C; at 19 characters with a space there is no offset to lose.
            return (datetime.fromisoformat(value) - _BEIJING_OFFSET).replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def china_local(value: str, where: str, source: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> datetime:
    """'YYYY-MM-DD HH:MM:SS' without offset, as JD and Douban send it: Beijing time."""
    if fmt == "%Y-%m-%d %H:%M:%S" and (fast := beijing_fast(value)):
        return fast
    try:
        return datetime.strptime(value.strip(), fmt).replace(tzinfo=CHINA).astimezone(UTC)
    except (AttributeError, ValueError):
        raise ParseError(source, f"{where}: time {value!r} is not {fmt}") from None


def iso_time(value: str, where: str, source: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())  # 3.11 reads a trailing Z
    except (AttributeError, ValueError):
        raise ParseError(source, f"{where}: time {value!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_origin(origin: str) -> str:
    """' from ORIGIN' for an error message, '' when the origin is unknown."""
    return f" from {origin}" if origin else ""


# Nesting kept of a JSON page that nests past orjson's 1,024 levels (no site's real page nests
# past ten): each deeper value becomes TOO_DEEP, which fits no item schema's text, number or
# time, so the one item holding it is skipped naming its field and the rest of the page is kept.
MAX_JSON_DEPTH = 64
TOO_DEEP = '{"nested too deeply": true}'
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def clip_depth(text: str, limit: int = MAX_JSON_DEPTH) -> str:
    """The JSON text with every value nested deeper than `limit` replaced by TOO_DEEP."""
    kept: list[str] = []
    depth = 0
    done = 0  # the end of what is copied to `kept`
    cut: int | None = None  # where the value being replaced starts
    for token in _JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket[0] == '"':
            continue  # a string: brackets inside it are text
        if bracket in "[{":
            depth += 1
            if depth > limit and cut is None:
                cut = token.start()
            continue
        if depth == limit + 1 and cut is not None:
            kept += [text[done:cut], TOO_DEEP]
            done, cut = token.end(), None
        depth -= 1
    return "".join([*kept, text[done:]])


def load_json(body: bytes | memoryview | str, source: str, origin: str = "") -> Any:
    """JSON, or a ParseError that says where and shows the start of the body.

    orjson, because the JSON sources must parse and store 20,000 mentions/s and
    the stdlib parser alone manages ~19,000/s on JD's 4 KB comments. UTF-8 bytes
    go to it directly; anything else is decoded (GBK, Big5 ...) first. A page
    nested too deep for orjson is read with its deepest values cut (clip_depth).
    """
    where = from_origin(origin)
    if isinstance(body, (bytes, memoryview)):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # not UTF-8, or not JSON: decode and retry for the precise message
        from collectors.http import decode_body

        body = decode_body(bytes(body))
    text = body.strip()
    if not text:
        raise ParseError(source, f"empty body{where}")
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if exc.msg == "depth limit exceeded":
            with contextlib.suppress(orjson.JSONDecodeError):
                return orjson.loads(clip_depth(text))
        snippet = text[:80].replace("\n", " ")
        raise ParseError(
            source,
            f"malformed JSON{where} at line {exc.lineno} column {exc.colno}: {exc.msg} "
            f"(body starts {snippet!r}, {len(text)} chars)",
        ) from None


Parser = TypeVar("Parser", bound=Callable[..., Any])


def gc_paused(parse: Parser) -> Parser:
    """Run a page parser with Python's cycle collector paused.

    Parsing a JSON page builds one tree of tens of thousands of dicts and lists
    that cannot hold a reference cycle and is freed as soon as the parser
    returns. Left on, the collector walks that tree again and again while it is
    built (and walks every mention of the pending batch with it): measured at a
    third of JD's parse time. Reference counting still frees everything; the
    collector resumes when the page is parsed. If something else paused it, it
    stays paused.
    """

    @functools.wraps(parse)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return parse(*args, **kwargs)
        gc.disable()
        try:
            return parse(*args, **kwargs)
        finally:
            gc.enable()

    return paused  # type: ignore[return-value]


def as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
