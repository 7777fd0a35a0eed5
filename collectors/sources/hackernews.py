"""Hacker News stories and comments through the Algolia search API (JSON).

URL: https://hn.algolia.com/api/v1/search_by_date?query={kw}&tags=(story,comment)&page={n}&hitsPerPage=50
     and, once a cursor exists, numericFilters=created_at_i>{ts} so a rerun asks only for new hits.
Targets: `keywords` (`tags` sets Algolia's tags).
Needs: nothing. Limits: 10,000 requests an hour per IP (HN API page); about 1000 hits per query.
Paging: page from 0 up to nbPages.
Times: created_at_i, Unix seconds (UTC).
Ids: objectID.
Text: title (plain text), then story_text or comment_text (HTML).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from collectors.base import Demo, DemoFixtures, ParseContext, Reply, json_reply
from collectors.items import RawFields, item_id, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.partial import LEAF, PartialDecoder
from collectors.text import as_int, from_epoch, gc_paused, html_to_text, iso_time, load_json
from koubei.errors import LayoutChanged
from koubei.records import Mention

BASE_URL = "https://hn.algolia.com"
PAGE_SIZE = 50
# raw keeps what carries meaning, never who wrote it: Algolia names the author in a tag too.
RAW = RawFields(
    keep=(
        "objectID",
        "created_at",
        "created_at_i",
        "url",
        "story_id",
        "parent_id",
        "story_title",
        "story_url",
        "points",
        "num_comments",
        "_tags",
    ),
    personal=("author",),
    personal_tags=(("_tags", "author_"),),
)
# Everything read_page reads, decoded without the rest of each hit (its _highlightResult
# repeats every text field as nested objects; collectors/partial.py).
_HIT = dict.fromkeys((*RAW.keep, "title", "story_text", "comment_text", "author"), LEAF)
_ANSWER = PartialDecoder({"hits": [_HIT], "nbPages": LEAF})


class Hit(msgspec.Struct):
    """What read_page reads of a hit; raw keeps RAW's fields as they come."""

    objectID: str | int
    created_at_i: int | float | None = None
    created_at: str | None = None
    title: str | None = None
    story_title: str | None = None
    story_text: str | None = None
    comment_text: str | None = None
    author: str | None = None
    points: int | None = None
    num_comments: int | None = None


def _mention(hit: Hit, item: dict[str, Any], context: ParseContext) -> Mention:
    source = context.source
    object_id = item_id(hit.objectID, "objectID")
    if hit.created_at_i is not None:
        published = from_epoch(hit.created_at_i, "created_at_i", source)
    else:
        published = iso_time(hit.created_at or "", "created_at", source)
    parts = [hit.title or hit.story_title or "", html_to_text(hit.story_text or hit.comment_text or "")]
    return Mention(
        source=source,
        native_id=object_id,
        text="\n".join(p for p in parts if p),
        published_at=published,
        url=f"https://news.ycombinator.com/item?id={object_id}",
        author=hit.author,
        brand=context.brand,
        product=context.product,
        language="en",
        likes=hit.points,
        replies=hit.num_comments,
        raw=RAW.of(item),
    )


def _demo_page(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved hits with ids and times of their own per page, filtered by numericFilters as Algolia does."""
    page = int(params.get("page", 0))
    data = site.json("hn_algolia.json")
    hits = data["hits"] if page < site.pages else []
    for i, hit in enumerate(hits):
        hit["objectID"] = str(int(hit["objectID"]) + page)
        moment = site.when(page, i, len(hits))
        hit["created_at_i"] = int(moment.timestamp())
        hit["created_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if m := re.match(r"created_at_i>(\d+)", params.get("numericFilters", "")):
        hits = [h for h in hits if h["created_at_i"] > int(m.group(1))]
    data["hits"], data["nbPages"], data["page"] = hits, site.pages, page
    return json_reply(data)


class HackerNewsOptions(HttpSourceOptions, kw_only=True):
    keywords: Targets[TargetTable]
    base_url: str = BASE_URL
    tags: str = "(story,comment)"  # Algolia's tags filter


class HackerNewsCollector(HttpCollector):
    name = "hackernews"
    target_key = "keywords"
    options_type = HackerNewsOptions
    options: HackerNewsOptions
    demo = Demo(
        fixtures=("hn_algolia.json",),
        routes={"/api/v1/search_by_date": _demo_page},
        table=lambda at: {"base_url": at.base, "keywords": ["SonicWave"], "brand": at.brand},
        per_page=(1,),
    )

    @staticmethod
    @gc_paused
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], int]:
        """Hits of one page and nbPages."""
        source, at = context.source, context.at
        data = _ANSWER.decode(body)
        if data is None or "hits" not in data:
            data = load_json(body, source, context.origin)  # the full decode, to name what is wrong
        if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
            raise LayoutChanged(source, f"no 'hits' list{at}: not an Algolia search answer")
        hits = ((f"hits[{index}]", hit) for index, hit in enumerate(data["hits"]))
        mentions = parse_items(context, hits, lambda hit, item: _mention(hit, item, context), Hit)
        return mentions, as_int(data.get("nbPages")) or 0

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        page = int(token or 0)
        params: dict[str, Any] = {
            "query": target.value,
            "tags": self.options.tags,
            "page": page,
            "hitsPerPage": PAGE_SIZE,
        }
        # Algolia filters server-side: a rerun downloads only what is new, or still missing
        # below a gap a capped run left (whose page token counts in the same filtered list).
        cursor = self.cursors.get(target.scope)
        bounds = [cursor.newest, *(gap.after for gap in cursor.gaps)] if cursor else []
        if known := [b for b in bounds if b is not None]:
            params["numericFilters"] = f"created_at_i>{int(min(known).timestamp()) - 1}"
        resp = self.get(self.base_url + "/api/v1/search_by_date", params=params)
        mentions, pages = self.read_page(resp.text, self.context(target, resp.url))
        return Fetched(mentions, page + 1 if mentions and page + 1 < pages else None)
