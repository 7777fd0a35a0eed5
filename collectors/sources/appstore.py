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
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.text import as_int, gc_paused, iso_time, load_json
from koubei.errors import LayoutChanged, ParseError
from koubei.records import Mention

BASE_URL = "https://itunes.apple.com"
MAX_PAGES = 10
_PAGE = re.compile(r"page=(\d+)")
_PACIFIC = timezone(timedelta(hours=-7))  # the demo's times, as Apple sends them


def _label(node: Any) -> Any:
    return node.get("label") if isinstance(node, dict) else None


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
        feed_time = _label(feed.get("updated"))
        mentions = []
        for index, entry in enumerate(entries):
            where = f"feed.entry[{index}]{at}"
            if not isinstance(entry, dict):
                raise ParseError(source, f"{where}: not an object")
            if "im:rating" not in entry:
                continue  # the app's own metadata entry in older feeds
            review_id = _label(entry.get("id"))
            if not review_id:
                raise ParseError(source, f"{where}: review without id.label")
            stamp, how = _label(entry.get("updated")), "entry.updated"
            if not stamp:
                stamp, how = feed_time, "feed.updated (entry has none)"
            published = iso_time(stamp, f"{where}.updated", source) if stamp else context.now
            title, content = _label(entry.get("title")) or "", _label(entry.get("content")) or ""
            author = entry.get("author") or {}
            link_node = entry.get("link")
            link = ((link_node.get("attributes") or {}).get("href")) if isinstance(link_node, dict) else None
            rating = _label(entry.get("im:rating"))
            mentions.append(
                Mention(
                    source=source,
                    native_id=str(review_id),
                    text="\n".join(p for p in (title.strip(), content.strip()) if p),
                    published_at=published,
                    url=link,
                    author=_label(author.get("name")),
                    rating=float(rating) if rating else None,
                    brand=context.brand,
                    product=context.product,
                    likes=as_int(_label(entry.get("im:voteSum"))),
                    raw={
                        "id": review_id,
                        "updated": _label(entry.get("updated")),
                        "rating": rating,
                        "version": _label(entry.get("im:version")),
                        "voteSum": _label(entry.get("im:voteSum")),
                        "voteCount": _label(entry.get("im:voteCount")),
                        "cc": context.options.get("cc"),
                        "koubei_time": how if stamp else "fetch time (no updated anywhere)",
                    },
                )
            )
        last = None
        for link in feed.get("link") or []:
            attrs = (link or {}).get("attributes") or {}
            if attrs.get("rel") == "last" and (m := _PAGE.search(attrs.get("href", ""))):
                last = int(m.group(1))
        return mentions, last

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        page = int(token or 1)
        cc = target.entry(AppTarget).cc or self.options.cc
        url = f"{self.base_url}/{cc}/rss/customerreviews/page={page}/id={target.value}/sortby=mostrecent/json"
        resp = self.get(url)
        mentions, last = self.read_page(resp.text, self.context(target, resp.url, cc=cc))
        more = bool(mentions) and page < min(last or MAX_PAGES, MAX_PAGES)
        return Fetched(mentions, page + 1 if more else None)
