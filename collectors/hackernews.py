"""Hacker News stories and comments through the Algolia search API (JSON).

URL: {base}/api/v1/search_by_date?query={kw}&tags=(story,comment)&page={n}&hitsPerPage=50
     and, once a cursor exists, numericFilters=created_at_i>{ts} so a rerun asks only for new hits.
Needs: nothing. Limits: 10,000 requests an hour per IP (HN API page); about 1000 hits per query.
Times: created_at_i, Unix seconds (UTC). Ids: objectID.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collectors.base import Fetched, HttpCollector, Target
from collectors.partial import LEAF, PartialDecoder
from collectors.text import as_int, from_epoch, gc_paused, html_to_text, iso_time, load_json, pick
from koubei.errors import LayoutChanged, ParseError
from koubei.records import Mention

NAME = "hackernews"
BASE_URL = "https://hn.algolia.com"
PAGE_SIZE = 50
RAW_FIELDS = (
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
)
# Everything parse_page reads, decoded without the rest of each hit (its _highlightResult
# repeats every text field as nested objects; collectors/partial.py).
_HIT = dict.fromkeys((*RAW_FIELDS, "title", "story_text", "comment_text", "author"), LEAF)
_ANSWER = PartialDecoder({"hits": [_HIT], "nbPages": LEAF})


@gc_paused
def parse_page(
    body: bytes | str,
    *,
    source: str = NAME,
    brand: str | None = None,
    product: str | None = None,
    origin: str = "",
    **_: Any,
) -> tuple[list[Mention], int]:
    """Hits of one page and nbPages."""
    at = f" from {origin}" if origin else ""
    data = _ANSWER.decode(body)
    if data is None or "hits" not in data:
        data = load_json(body, source, origin)  # the full decode, to name what is wrong
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        raise LayoutChanged(source, f"no 'hits' list{at}: not an Algolia search answer")
    mentions = []
    for index, hit in enumerate(data["hits"]):
        where = f"hits[{index}]{at}"
        object_id = hit.get("objectID")
        if not object_id:
            raise ParseError(source, f"{where}: hit without objectID")
        if hit.get("created_at_i") is not None:
            published = from_epoch(hit["created_at_i"], f"{where}.created_at_i", source)
        else:
            published = iso_time(hit.get("created_at", ""), f"{where}.created_at", source)
        parts = [
            hit.get("title") or hit.get("story_title") or "",
            html_to_text(hit.get("story_text") or hit.get("comment_text") or ""),
        ]
        mentions.append(
            Mention(
                source=source,
                native_id=str(object_id),
                text="\n".join(p for p in parts if p),
                published_at=published,
                url=f"https://news.ycombinator.com/item?id={object_id}",
                author=hit.get("author"),
                brand=brand,
                product=product,
                language="en",
                likes=as_int(hit.get("points")),
                replies=as_int(hit.get("num_comments")),
                raw=pick(hit, RAW_FIELDS),
            )
        )
    return mentions, as_int(data.get("nbPages")) or 0


def parse(body: bytes | str, **context: Any) -> list[Mention]:
    return parse_page(body, **context)[0]


class HackerNewsCollector(HttpCollector):
    name = NAME
    target_key = "keywords"
    default_base_url = BASE_URL
    parse = staticmethod(parse)

    def fetch(self, target: Target, token: Any) -> Fetched:
        page = int(token or 0)
        params: dict[str, Any] = {
            "query": target.value,
            "tags": self.options.get("tags", "(story,comment)"),
            "page": page,
            "hitsPerPage": PAGE_SIZE,
        }
        state = self.cursors.get(target.scope) or {}
        # Algolia filters server-side: a rerun downloads only what is new, or still missing
        # below a gap a capped run left (whose page token counts in the same filtered list).
        bounds = [
            datetime.fromisoformat(b) for b in [state.get("newest")] + [g["after"] for g in state.get("gaps", [])] if b
        ]
        if bounds:
            params["numericFilters"] = f"created_at_i>{int(min(bounds).timestamp()) - 1}"
        resp = self.get(self.base_url + "/api/v1/search_by_date", params=params)
        mentions, pages = parse_page(
            resp.text, source=self.source, brand=target.brand, product=target.product, origin=resp.url
        )
        return Fetched(mentions, page + 1 if mentions and page + 1 < pages else None, resp.url)
