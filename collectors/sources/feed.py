"""Any RSS 2.0 or Atom feed (feedparser), e.g. Google News search or a brand's own blog.

URL: any RSS 2.0 / Atom URL, e.g. https://news.google.com/rss/search?q={q}&hl=zh-CN&gl=CN&ceid=CN:zh-Hans
Targets: `feeds`, feed URLs; `match = [...]` keeps only entries that mention a keyword.
Needs: nothing. Terms: Google News feeds are for personal, non-commercial feed readers
       (its <copyright>): get legal review before a commercial dashboard uses them.
Paging: one page per feed.
Times: pubDate (RFC 822) or Atom published/updated (RFC 3339), to UTC; an entry without a
       date gets the fetch time.
Ids: guid / Atom id, else the link, else a hash of title and link.
Text: title and summary, each plain text or HTML as the feed declares it (feedparser tells).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from typing import Any

import feedparser

from collectors.base import Demo, DemoFixtures, ParseContext, Reply
from collectors.items import BadItem, RawFields, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.text import html_to_text, plain_text
from koubei.errors import LayoutChanged, ParseError
from koubei.records import Mention, content_id


def _field_text(entry: Any, field: str) -> str:
    """feedparser tells per field whether it holds plain text (an RSS or Atom title, usually)
    or HTML (a description); only HTML is read as markup."""
    detail = entry.get(f"{field}_detail") or {}
    value = entry.get(field)
    return plain_text(value) if detail.get("type") == "text/plain" else html_to_text(value)


def _demo_rss(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved RSS feed with recent publication times."""
    stamps = (site.when(0, i, 1).strftime("%a, %d %b %Y %H:%M:%S GMT") for i in range(100))
    text = re.sub(
        r"<pubDate>[^<]+</pubDate>", lambda m: f"<pubDate>{next(stamps)}</pubDate>", site.text("news_rss.xml")
    )
    return 200, "application/rss+xml; charset=utf-8", text.encode("utf-8")


def _demo_atom(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved Atom feed with a recent entry time."""
    text = site.text("news_atom.xml").replace(
        "<updated>2026-09-23T18:21:37Z</updated>", f"<updated>{site.when(0, 0, 1):%Y-%m-%dT%H:%M:%SZ}</updated>"
    )
    return 200, "application/atom+xml; charset=utf-8", text.encode("utf-8")


# raw keeps what carries meaning, never who wrote it.
RAW = RawFields(keep=("id", "title", "link", "published", "updated", "source", "feed_title"), personal=("author",))


def _mention(entry: Any, feed: Any, language: Any, context: ParseContext) -> Mention | None:
    """One entry, or None when `match` leaves it out."""
    title, summary = _field_text(entry, "title"), _field_text(entry, "summary")
    if summary and set(summary.split()) <= set(title.replace(" - ", " ").split()):
        summary = ""  # Google News repeats "headline outlet" as the description
    text = "\n".join(p for p in (title, summary) if p)
    match = context.options.get("match")
    if match and not any(word.lower() in text.lower() for word in match):
        return None
    link = entry.get("link")
    native_id = entry.get("id") or link or content_id(title, link)
    if not text:
        raise BadItem("title, summary", f"{native_id}: no title or summary")
    # Plain dict lookups: feedparser's own get() maps a missing `published` to `updated` with a warning.
    stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    source_node = entry.get("source")
    return Mention(
        source=context.source,
        native_id=str(native_id),
        text=text,
        published_at=datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC) if stamp else context.now,
        url=link if isinstance(link, str) else None,
        author=entry.get("author") if isinstance(entry.get("author"), str) else None,
        brand=context.brand,
        product=context.product,
        language=language if isinstance(language, str) and language else None,
        raw=RAW.of(
            {
                "id": native_id,
                "title": entry.get("title"),
                "link": link,
                "published": dict.get(entry, "published"),
                "updated": dict.get(entry, "updated"),
                "source": source_node.get("title") if isinstance(source_node, dict) else None,
                "feed_title": feed.get("title"),
            }
        ),
    )


class FeedOptions(HttpSourceOptions, kw_only=True):
    feeds: Targets[TargetTable]  # feed URLs
    match: tuple[str, ...] = ()  # keep only entries that mention one of these words (any case)


class FeedCollector(HttpCollector):
    name = "feed"
    target_key = "feeds"
    options_type = FeedOptions
    options: FeedOptions
    demo = Demo(
        fixtures=("news_rss.xml", "news_atom.xml"),
        routes={r"/rss\.xml": _demo_rss, r"/atom\.xml": _demo_atom},
        table=lambda at: {"feeds": [f"{at.base}/rss.xml", f"{at.base}/atom.xml"], "brand": at.other_brand},
        per_page=(2, 1),
        paged=False,
    )

    @staticmethod
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], None]:
        """The entries of a feed (a feed is one page)."""
        source, at = context.source, context.at
        raw_body = body.encode("utf-8") if isinstance(body, str) else body
        if not raw_body.strip():
            raise ParseError(source, f"empty body{at}")
        try:
            # Bytes, never a URL: feedparser must not fetch anything itself.
            parsed = feedparser.parse(raw_body)
        except (ValueError, TypeError, LookupError) as exc:  # UnicodeError is a ValueError
            raise ParseError(source, f"unreadable feed{at}: {type(exc).__name__}: {exc}") from None
        if not parsed.get("version") and not parsed.entries:
            problem = parsed.get("bozo_exception")
            raise LayoutChanged(source, f"not an RSS or Atom feed{at}" + (f": {problem}" if problem else ""))
        language = parsed.feed.get("language")
        entries = ((f"entry[{index}]", entry) for index, entry in enumerate(parsed.entries))
        mentions = parse_items(context, entries, lambda entry, _: _mention(entry, parsed.feed, language, context))
        return mentions, None

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        resp = self.get(target.value)
        mentions, _ = self.read_page(resp.body, self.context(target, resp.url, match=self.options.match))
        return Fetched(mentions)
