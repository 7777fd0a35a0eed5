"""Reddit search (www.reddit.com/search.json, a Listing of t3 posts).

URL: {base}/search.json?q={kw}&sort=new&t=all&limit=100&after={fullname}
     (a target table {id = "kw", subreddit = "name"} searches one subreddit).
Needs: a unique, descriptive User-Agent (429 otherwise, reddit-archive/reddit#1493); server and
       hosting IPs are often blocked: for production use OAuth on oauth.reddit.com (base_url, headers_env).
Paging: data.after. Times: created_utc, Unix seconds (UTC). Ids: name (t3_...).
"""

from __future__ import annotations

from typing import Any

from collectors.base import Fetched, HttpCollector, Target
from collectors.partial import LEAF, PartialDecoder
from collectors.text import as_int, from_epoch, gc_paused, load_json, pick, plain_text
from koubei.errors import LayoutChanged, ParseError
from koubei.records import Mention

NAME = "reddit"
BASE_URL = "https://www.reddit.com"
RAW_FIELDS = (
    "name",
    "id",
    "subreddit",
    "created_utc",
    "score",
    "ups",
    "upvote_ratio",
    "num_comments",
    "permalink",
    "url",
    "domain",
    "over_18",
    "is_self",
    "link_flair_text",
    "link_id",
)
# Everything parse_page reads, decoded without the rest of each ~3 KB post (collectors/partial.py).
_READ_FIELDS = (*RAW_FIELDS, "title", "selftext", "body", "author")
_LISTING = PartialDecoder(
    {"kind": LEAF, "data": {"children": [{"kind": LEAF, "data": dict.fromkeys(_READ_FIELDS, LEAF)}], "after": LEAF}}
)


@gc_paused
def parse_page(
    body: bytes | str,
    *,
    source: str = NAME,
    brand: str | None = None,
    product: str | None = None,
    origin: str = "",
    **_: Any,
) -> tuple[list[Mention], str | None]:
    """Posts (t3) and comments (t1) of one Listing, and its `after` token."""
    at = f" from {origin}" if origin else ""
    data = _LISTING.decode(body)
    # The partial decode's posts are fresh dicts of _READ_FIELDS only: parse_page may take them apart.
    projected = data is not None
    if not projected:
        data = load_json(body, source, origin)  # the full decode, to name what is wrong
    listing = data.get("data") if isinstance(data, dict) and data.get("kind") == "Listing" else None
    if not isinstance(listing, dict) or not isinstance(listing.get("children"), list):
        raise LayoutChanged(source, f"not a Listing with data.children{at}")
    mentions = []
    for index, child in enumerate(listing["children"]):
        where = f"data.children[{index}]{at}"
        post = (child or {}).get("data") or {}
        name = post.get("name") or (f"{child.get('kind')}_{post['id']}" if post.get("id") else None)
        if not name:
            raise ParseError(source, f"{where}: item without name or id")
        # raw keeps RAW_FIELDS: the fields read for other columns are taken out of it.
        raw = post if projected and post else pick(post, _READ_FIELDS)
        title, selftext, body_text = raw.pop("title", None), raw.pop("selftext", None), raw.pop("body", None)
        author = raw.pop("author", None)
        text = "\n".join(p for p in (title or "", plain_text(selftext or body_text)) if p)
        permalink = post.get("permalink")
        mentions.append(
            Mention(
                source=source,
                native_id=str(name),
                text=text,
                published_at=from_epoch(post.get("created_utc"), f"{where}.created_utc", source),
                url=f"https://www.reddit.com{permalink}" if permalink else post.get("url"),
                author=author,
                brand=brand,
                product=product,
                likes=as_int(post.get("score")),
                replies=as_int(post.get("num_comments")),
                raw=raw,
            )
        )
    return mentions, listing.get("after")


def parse(body: bytes | str, **context: Any) -> list[Mention]:
    return parse_page(body, **context)[0]


class RedditCollector(HttpCollector):
    name = NAME
    target_key = "keywords"
    default_base_url = BASE_URL
    parse = staticmethod(parse)

    def fetch(self, target: Target, token: Any) -> Fetched:
        params: dict[str, Any] = {"q": target.value, "sort": "new", "t": "all", "limit": 100, "raw_json": 1}
        path = "/search.json"
        if sub := target.options.get("subreddit"):
            path, params["restrict_sr"] = f"/r/{sub}/search.json", 1
        if token:
            params["after"] = token
        resp = self.get(self.base_url + path, params=params)
        mentions, after = parse_page(
            resp.text, source=self.source, brand=target.brand, product=target.product, origin=resp.url
        )
        return Fetched(mentions, after if mentions and after and after != token else None, resp.url)
