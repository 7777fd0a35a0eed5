"""Apple App Store customer reviews (itunes.apple.com RSS, JSON flavour).

URL: https://itunes.apple.com/{cc}/rss/customerreviews/page={1..10}/id={appid}/sortby=mostrecent/json
Targets: `app_ids` (+ `cc`, the country, default cn; a target table may set its own).
Needs: nothing (no auth).
Paging: 50 reviews a page, 10 pages (about 500 reviews) per country; link[rel=last] names the last.
Quirks: every scalar is wrapped in {"label": ...}; `entry` is a single object when there is one
review; older feeds put the app itself as entry[0] (no im:rating); entries may lack `updated`.
Times: updated.label, ISO 8601 with a Pacific offset; converted to UTC. An entry without it gets
       the feed's `updated`, else the fetch time (stated in raw.koubei_time).
Ids: entry.id.label. The country code is kept in raw.cc.
Text: title and content, plain text.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import Annotated, Any

import msgspec

from collectors.base import Demo, DemoFixtures, ParseContext, Reply, json_reply
from collectors.items import RawFields, item_id, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.text import as_int, gc_paused, iso_time, load_json
from koubei.errors import LayoutChanged
from koubei.records import Mention

BASE_URL = "https://itunes.apple.com"
MAX_PAGES = 10
_PAGE = re.compile(r"page=(\d+)")
_PACIFIC = timezone(timedelta(hours=-7))  # the demo's times, as Apple sends them


def _label(node: Any) -> Any:
    return node.get("label") if isinstance(node, dict) else None


# raw keeps what carries meaning (built from the entry's labels), never who wrote it.
RAW = RawFields(
    keep=("id", "updated", "rating", "version", "voteSum", "voteCount", "cc", "koubei_time"), personal=("author",)
)


class Label(msgspec.Struct):
    """Apple wraps every scalar: {"label": "..."}."""

    label: str | None = None


class LinkAttributes(msgspec.Struct):
    href: str | None = None


class Link(msgspec.Struct):
    attributes: LinkAttributes | None = None


class Author(msgspec.Struct):
    name: Label | None = None


class Entry(msgspec.Struct):
    """What read_page reads of an entry."""

    id: Label
    rating: Label | None = msgspec.field(default=None, name="im:rating")
    updated: Label | None = None
    title: Label | None = None
    content: Label | None = None
    author: Author | None = None
    link: Link | list[Link] | None = None
    version: Label | None = msgspec.field(default=None, name="im:version")
    vote_sum: Label | None = msgspec.field(default=None, name="im:voteSum")
    vote_count: Label | None = msgspec.field(default=None, name="im:voteCount")


def _last_page(links: Any) -> int | None:
    """The page number the feed's link[rel=last] names, if it names one."""
    last = None
    for link in [links] if isinstance(links, dict) else links if isinstance(links, list) else []:
        attrs = link.get("attributes") if isinstance(link, dict) else None
        href = attrs.get("href") if isinstance(attrs, dict) and attrs.get("rel") == "last" else None
        if isinstance(href, str) and (m := _PAGE.search(href)):
            last = int(m.group(1))
    return last


def _text(label: Label | None) -> str | None:
    return label.label if label is not None else None


def _mention(entry: Entry, context: ParseContext, feed_time: str | None) -> Mention | None:
    if entry.rating is None:
        return None  # the app's own metadata entry in older feeds
    source = context.source
    review_id = item_id(entry.id.label, "id.label")
    stamp, how = _text(entry.updated), "entry.updated"
    if not stamp:
        stamp, how = feed_time, "feed.updated (entry has none)"
    published = iso_time(stamp, "updated", source) if stamp else context.now
    title, content = _text(entry.title) or "", _text(entry.content) or ""
    link = entry.link[0] if isinstance(entry.link, list) and entry.link else entry.link
    rating = entry.rating.label
    return Mention(
        source=source,
        native_id=review_id,
        text="\n".join(p for p in (title.strip(), content.strip()) if p),
        published_at=published,
        url=link.attributes.href if isinstance(link, Link) and link.attributes else None,
        author=_text(entry.author.name) if entry.author else None,
        rating=float(rating) if rating else None,
        brand=context.brand,
        product=context.product,
        likes=as_int(_text(entry.vote_sum)),
        raw=RAW.of(
            {
                "id": review_id,
                "updated": _text(entry.updated),
                "rating": rating,
                "version": _text(entry.version),
                "voteSum": _text(entry.vote_sum),
                "voteCount": _text(entry.vote_count),
                "cc": context.options.get("cc"),
                "koubei_time": how if stamp else "fetch time (no updated anywhere)",
            }
        ),
    )


def _demo_page(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved reviews with ids and (Pacific) times of their own per page."""
    number = int(params["page"])
    data = site.json("appstore_reviews.json")
    entries = data["feed"]["entry"] if number <= site.pages else []
    for i, entry in enumerate(entries):
        entry["id"]["label"] = str(int(entry["id"]["label"]) + number)
        entry["updated"]["label"] = site.when(number - 1, i, len(entries)).astimezone(_PACIFIC).isoformat()
    data["feed"]["entry"] = entries[0] if len(entries) == 1 else entries  # Apple's quirk: one entry is an object
    last = f"/{params['cc']}/rss/customerreviews/page={site.pages}/id={params['app']}/sortby=mostrecent/xml"
    data["feed"]["link"] = [{"attributes": {"rel": "last", "href": last}}]
    return json_reply(data)


CountryCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$", description='a country code such as "cn"')]


class AppTarget(TargetTable):
    cc: CountryCode | None = None  # this app's store country; default the source's `cc`


class AppStoreOptions(HttpSourceOptions, kw_only=True):
    app_ids: Targets[AppTarget]
    cc: CountryCode = "cn"  # the store country: reviews are per country
    base_url: str = BASE_URL


class AppStoreCollector(HttpCollector):
    name = "appstore"
    target_key = "app_ids"
    options_type = AppStoreOptions
    options: AppStoreOptions
    demo = Demo(
        fixtures=("appstore_reviews.json",),
        routes={
            r"/(?P<cc>\w+)/rss/customerreviews/page=(?P<page>\d+)/id=(?P<app>\d+)/sortby=mostrecent/json": _demo_page
        },
        table=lambda at: {"base_url": at.base, "app_ids": ["1592550875"], "cc": "cn", "brand": at.brand},
        per_page=(2,),
    )

    @staticmethod
    @gc_paused
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], int | None]:
        """Reviews of one page and the last page number the feed links to (None if it does not say)."""
        source, at = context.source, context.at
        data = load_json(body, source, context.origin)
        feed = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(feed, dict):
            raise LayoutChanged(source, f"no 'feed' object{at}: not a customerreviews JSON feed")
        entries = feed.get("entry") or []
        if isinstance(entries, dict):  # one review: Apple sends the object, not a list of one
            entries = [entries]
        if not isinstance(entries, list):
            raise LayoutChanged(source, f"feed.entry is {type(entries).__name__}{at}: not a list of reviews")
        feed_time = _label(feed.get("updated"))
        feed_time = feed_time if isinstance(feed_time, str) else None
        items = ((f"feed.entry[{index}]", entry) for index, entry in enumerate(entries))
        mentions = parse_items(context, items, lambda entry, _: _mention(entry, context, feed_time), Entry)
        return mentions, _last_page(feed.get("link"))

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        page = int(token or 1)
        cc = target.entry(AppTarget).cc or self.options.cc
        url = f"{self.base_url}/{cc}/rss/customerreviews/page={page}/id={target.value}/sortby=mostrecent/json"
        resp = self.get(url)
        mentions, last = self.read_page(resp.text, self.context(target, resp.url, cc=cc))
        more = bool(mentions) and page < min(last or MAX_PAGES, MAX_PAGES)
        return Fetched(mentions, page + 1 if more else None)
