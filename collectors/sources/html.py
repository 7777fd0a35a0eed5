"""A generic HTML page whose items are declared by CSS selectors in koubei.toml.

URL: any page; items by CSS selectors in [sources.NAME.selectors].
Targets: `urls`, page URLs.
Needs: whatever the site needs (headers, cookie).
Paging: follows `next` up to max_pages (default 3).
Times: as configured (`time`, `time_format`, `timezone`).
Ids: the `id` selector, else a hash of URL, author, time and text.
Text: the `text` element, read by an HTML parser (bs4 over lxml).

For forums, news sites and review pages without an API. Example:

    [sources.forum]
    kind = "html"
    urls = ["https://bbs.example.com/forum-12-1.html"]
    [sources.forum.selectors]
    item = "li.post"              # required: one element per mention
    text = ".content"             # required
    id = "@data-pid"              # "css@attr"; "@attr" reads the item itself; absent: a content hash
    author = ".author"
    time = "time@datetime"
    url = "a.title@href"          # made absolute against the page URL
    rating = ".stars@data-score"  # the first number in it; rating_scale = 10 turns "allstar40" into 4
    likes = ".likes"
    next = "a.next@href"          # follow paging links
    time_format = "%Y-%m-%d %H:%M"  # else ISO 8601 / "YYYY-MM-DD HH:MM[:SS]" / "YYYY-MM-DD"
    timezone = "+08:00"            # for times without offset (default +08:00)

A page with content whose `item` selector matches nothing is a layout change, not "no news".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urljoin

import msgspec
from bs4 import BeautifulSoup, Tag

from collectors.base import Demo, ParseContext
from collectors.items import BadItem, RawFields, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.sources import douban
from collectors.text import as_int, element_text
from koubei.errors import ConfigError, LayoutChanged, ParseError
from koubei.records import Mention, content_id
from koubei.settings.types import Table, Text

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _zone(spec: str, source: str) -> timezone:
    m = _OFFSET.match(spec.strip())
    if not m:
        raise ConfigError(f"[sources.{source}.selectors] timezone must look like +08:00, got {spec!r}")
    delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return timezone(delta if m.group(1) == "+" else -delta)


def _pick(item: Tag, spec: str | None) -> str | None:
    """Value of a "css@attr" spec inside `item`; text when there is no @attr."""
    if not spec:
        return None
    selector, _, attr = spec.partition("@")
    node = item.select_one(selector) if selector.strip() else item
    if node is None:
        return None
    if attr:
        value = node.get(attr)
        return " ".join(value) if isinstance(value, list) else (str(value) if value is not None else None)
    return element_text(node)


def _time(value: str, fmt: str | None, zone: timezone, where: str, source: str) -> datetime:
    value = value.strip()
    candidates = (fmt,) if fmt else _FORMATS
    if not fmt:
        try:
            parsed = datetime.fromisoformat(value)  # 3.11 reads a trailing Z
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)
        except ValueError:
            pass
    for candidate in candidates:
        try:
            parsed = datetime.strptime(value, candidate)
        except ValueError:
            continue
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)
    raise ParseError(source, f"{where}: time {value!r} matches none of {fmt or 'ISO 8601, ' + ', '.join(_FORMATS)}")


# The demo reads Douban's saved comment page as a forum, by the selectors below.
DEMO_SELECTORS = {
    "item": ".comment-item",
    "text": "p",
    "id": "@data-cid",
    "time": ".comment-time@title",
    "author": ".comment-info > a",
    "likes": ".votes",
    "rating": ".rating@class",
    "rating_scale": 10,
    "next": "a.next@href",
}


class Selectors(Table):
    """[sources.NAME.selectors]: "css" reads an element's text, "css@attr" an attribute, "@attr" the item's own."""

    item: Text  # one element per mention
    text: Text
    id: str | None = None  # absent: a hash of URL, author, time and text
    author: str | None = None
    time: str | None = None
    url: str | None = None  # made absolute against the page URL
    rating: str | None = None  # the first number in it, divided by rating_scale
    rating_scale: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    likes: str | None = None
    next: str | None = None  # the next page's link
    time_format: str | None = None  # strptime format; else ISO 8601, "YYYY-MM-DD HH:MM[:SS]", "YYYY-MM-DD"
    timezone: Annotated[str, msgspec.Meta(pattern=r"^[+-]\d{2}:?\d{2}$", description='an offset such as "+08:00"')] = (
        "+08:00"  # for times without an offset
    )


class HtmlOptions(HttpSourceOptions, kw_only=True):
    urls: Targets[TargetTable]  # page URLs
    selectors: Selectors
    max_pages: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 3


class HtmlCollector(HttpCollector):
    name = "html"
    target_key = "urls"
    options_type = HtmlOptions
    options: HtmlOptions
    demo = Demo(
        fixtures=("douban_comments.html",),
        routes={"/?": douban.demo_page},
        table=lambda at: {"urls": [f"{at.base}/"], "selectors": dict(DEMO_SELECTORS), "brand": at.other_brand},
        per_page=(4,),
    )

    @staticmethod
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], str | None]:
        """Items of one page and the absolute URL of the next page, if a `next` selector finds one."""
        from collectors.http import decode_body

        source, at, origin = context.source, context.at, context.origin
        sel = _selector_map(context.options.get("selectors"))
        for required in ("item", "text"):
            if not sel.get(required):
                raise ConfigError(f'[sources.{source}.selectors] needs {required} = "css selector"')
        html = decode_body(body)
        soup = BeautifulSoup(html, "lxml")
        items = soup.select(sel["item"])
        if not items:
            if soup.get_text(strip=True):
                raise LayoutChanged(
                    source,
                    f"item selector {sel['item']!r} matched nothing{at} although the page has "
                    "content: the layout changed (update [sources.*.selectors])",
                )
            raise ParseError(source, f"empty page{at}")
        zone = _zone(str(sel.get("timezone", "+08:00")), source)
        places = ((f"item {index + 1} ({sel['item']})", (index, item)) for index, item in enumerate(items))
        mentions = parse_items(context, places, lambda entry, _: _mention(entry[0], entry[1], sel, zone, context))
        next_link = _pick(soup, sel.get("next")) if sel.get("next") else None
        return mentions, (urljoin(origin, next_link) if next_link and origin else next_link)

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        url = str(token or target.value)
        resp = self.get(url)
        context = self.context(target, resp.url, selectors=self.options.selectors)
        mentions, next_url = self.read_page(resp.body, context)
        return Fetched(mentions, next_url if mentions and next_url and next_url != url else None)


# raw keeps where the item was and what was read, never who wrote it.
RAW = RawFields(keep=("page", "index", "time", "rating"), personal=("author",))


def _mention(index: int, item: Tag, sel: dict[str, Any], zone: timezone, context: ParseContext) -> Mention:
    """One item, read by the configured selectors."""
    source, origin = context.source, context.origin
    text = _pick(item, sel["text"])
    if not text:
        raise BadItem("text", f"selector {sel['text']!r} found nothing")
    stamp = _pick(item, sel.get("time"))
    if sel.get("time") and not stamp:
        raise BadItem("time", f"selector {sel['time']!r} found nothing")
    published = _time(stamp, sel.get("time_format"), zone, "time", source) if stamp else context.now
    author = _pick(item, sel.get("author"))
    link = _pick(item, sel.get("url"))
    url = urljoin(origin, link) if link and origin else link
    native_id = _pick(item, sel.get("id")) or content_id(url, author, stamp, text)
    rating_text = _pick(item, sel.get("rating"))
    rating_match = _NUMBER.search(rating_text or "")
    likes_match = _NUMBER.search(_pick(item, sel.get("likes")) or "")
    return Mention(
        source=source,
        native_id=native_id,
        text=text,
        published_at=published,
        url=url or origin or None,
        author=author,
        brand=context.brand,
        product=context.product,
        rating=float(rating_match.group()) / float(sel.get("rating_scale", 1)) if rating_match else None,
        likes=as_int(likes_match.group()) if likes_match else None,
        raw=RAW.of({"page": origin, "index": index, "time": stamp, "rating": rating_text}),
    )


def _selector_map(given: Selectors | Mapping[str, Any] | None) -> dict[str, Any]:
    """Selectors as read_page reads them: from the source's options, or as given to `parse`."""
    if isinstance(given, Selectors):
        return {k: v for k, v in msgspec.structs.asdict(given).items() if v is not None}
    return dict(given or {})
