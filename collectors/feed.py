"""Any RSS 2.0 or Atom feed (feedparser), e.g. Google News search or a brand's own blog.

URL: each entry of `feeds`; Google News: https://news.google.com/rss/search?q={q}&hl=zh-CN&gl=CN&ceid=CN:zh-Hans
Needs: nothing. Terms: Google News feeds are for personal, non-commercial feed readers
       (its <copyright>): get legal review before a commercial dashboard uses them.
Ids: guid / Atom id, else the link, else a hash of title and link.
Times: pubDate (RFC 822) or Atom published/updated (RFC 3339), to UTC; an entry without a
       date gets the fetch time. `match = [...]` keeps only entries that mention a keyword.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

import feedparser

from collectors.base import Fetched, HttpCollector, Target
from collectors.text import html_to_text, plain_text
from koubei.errors import LayoutChanged, ParseError
from koubei.records import Mention, content_id

NAME = "feed"


def parse(
    body: bytes | str,
    *,
    source: str = NAME,
    brand: str | None = None,
    product: str | None = None,
    now: datetime | None = None,
    origin: str = "",
    match: list[str] | None = None,
    **_: Any,
) -> list[Mention]:
    at = f" from {origin}" if origin else ""
    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    if not raw_body.strip():
        raise ParseError(source, f"empty body{at}")
    # Bytes, never a URL: feedparser must not fetch anything itself.
    parsed = feedparser.parse(raw_body)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise LayoutChanged(source, f"not an RSS or Atom feed{at}" + (f": {problem}" if problem else ""))
    mentions = []
    for index, entry in enumerate(parsed.entries):
        title, summary = _field_text(entry, "title"), _field_text(entry, "summary")
        if summary and set(summary.split()) <= set(title.replace(" - ", " ").split()):
            summary = ""  # Google News repeats "headline outlet" as the description
        text = "\n".join(p for p in (title, summary) if p)
        if match and not any(word.lower() in text.lower() for word in match):
            continue
        link = entry.get("link")
        native_id = entry.get("id") or link or content_id(title, link)
        # Plain dict lookups: feedparser's own get() maps a missing `published` to `updated` with a warning.
        stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC) if stamp else (now or datetime.now(UTC))
        if not text:
            raise ParseError(source, f"entry[{index}] {native_id}{at}: no title or summary")
        mentions.append(
            Mention(
                source=source,
                native_id=str(native_id),
                text=text,
                published_at=published,
                url=link,
                author=entry.get("author"),
                brand=brand,
                product=product,
                language=(parsed.feed.get("language") or None),
                raw={
                    "id": native_id,
                    "title": entry.get("title"),
                    "link": link,
                    "published": dict.get(entry, "published"),
                    "updated": dict.get(entry, "updated"),
                    "source": (entry.get("source") or {}).get("title"),
                    "feed_title": parsed.feed.get("title"),
                },
            )
        )
    return mentions


def _field_text(entry: Any, field: str) -> str:
    """feedparser tells per field whether it holds plain text (an RSS or Atom title, usually)
    or HTML (a description); only HTML is read as markup."""
    detail = entry.get(f"{field}_detail") or {}
    value = entry.get(field)
    return plain_text(value) if detail.get("type") == "text/plain" else html_to_text(value)


class FeedCollector(HttpCollector):
    name = NAME
    target_key = "feeds"
    parse = staticmethod(parse)

    def fetch(self, target: Target, token: Any) -> Fetched:
        resp = self.get(target.value)
        mentions = parse(
            resp.body,
            source=self.source,
            brand=target.brand,
            product=target.product,
            origin=resp.url,
            match=self.options.get("match"),
        )
        return Fetched(mentions, None, resp.url)
