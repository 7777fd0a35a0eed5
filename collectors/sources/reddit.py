"""Reddit search (www.reddit.com/search.json, a Listing of t3 posts).

URL: https://www.reddit.com/search.json?q={kw}&sort=new&t=all&limit=100&raw_json=1&after={fullname}
Targets: `keywords` (a table {id = "kw", subreddit = "name"} searches one subreddit).
Needs: a unique, descriptive User-Agent (429 otherwise, reddit-archive/reddit#1493); server and
       hosting IPs are often blocked: for production use OAuth on oauth.reddit.com (base_url, headers_env).
Paging: data.after.
Times: created_utc, Unix seconds (UTC).
Ids: name (t3_...).
Text: title, then selftext (a comment's body): plain text; raw_json=1 has Reddit send it
      without escaping &, < and >.
"""

from __future__ import annotations

from typing import Any

import msgspec

from collectors.base import Demo, DemoFixtures, ParseContext, Reply, json_reply
from collectors.items import RawFields, item_id, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.partial import LEAF, PartialDecoder
from collectors.text import from_epoch, gc_paused, load_json, plain_text
from koubei.errors import LayoutChanged
from koubei.records import Mention

BASE_URL = "https://www.reddit.com"
# raw keeps what carries meaning, never who wrote it.
RAW = RawFields(
    keep=(
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
    ),
    personal=("author", "author_fullname"),
)
# Everything read_page reads, decoded without the rest of each ~3 KB post (collectors/partial.py).
_READ_FIELDS = (*RAW.keep, "title", "selftext", "body", "author")
_LISTING = PartialDecoder(
    {"kind": LEAF, "data": {"children": [{"kind": LEAF, "data": dict.fromkeys(_READ_FIELDS, LEAF)}], "after": LEAF}}
)


class Post(msgspec.Struct):
    """What read_page reads of a post (t3) or comment (t1); raw keeps RAW's fields as they come."""

    created_utc: int | float
    name: str | None = None
    id: str | int | None = None
    title: str | None = None
    selftext: str | None = None
    body: str | None = None
    author: str | None = None
    permalink: str | None = None
    url: str | None = None
    score: int | None = None
    num_comments: int | None = None


class Child(msgspec.Struct):
    data: Post
    kind: str | None = None


def _mention(child: Child, item: dict[str, Any], context: ParseContext) -> Mention:
    post = child.data
    name = item_id(post.name or (f"{child.kind}_{post.id}" if post.id else None), "data.name")
    text = "\n".join(p for p in (post.title or "", plain_text(post.selftext or post.body)) if p)
    return Mention(
        source=context.source,
        native_id=name,
        text=text,
        published_at=from_epoch(post.created_utc, "data.created_utc", context.source),
        url=f"https://www.reddit.com{post.permalink}" if post.permalink else post.url,
        author=post.author,
        brand=context.brand,
        product=context.product,
        likes=post.score,
        replies=post.num_comments,
        raw=RAW.of(item["data"]),
    )


def _demo_page(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved listing with ids and times of their own per page; `after` names the page."""
    after = params.get("after", "")
    page = int(after.rsplit("p", 1)[1]) if after.startswith("t3_") and "p" in after[3:] else 0
    data = site.json("reddit_listing.json")
    children = data["data"]["children"] if page < site.pages else []
    for i, child in enumerate(children):
        post = child["data"]
        post["id"] = f"{post['id']}p{page}"
        post["name"] = f"t3_{post['id']}"
        post["created_utc"] = post["created"] = site.when(page, i, len(children)).timestamp()
    data["data"]["children"] = children
    data["data"]["after"] = f"t3_demop{page + 1}" if page + 1 < site.pages else None
    return json_reply(data)


class RedditTarget(TargetTable):
    subreddit: str | None = None  # search this subreddit only


class RedditOptions(HttpSourceOptions, kw_only=True):
    keywords: Targets[RedditTarget]
    base_url: str = BASE_URL


class RedditCollector(HttpCollector):
    name = "reddit"
    target_key = "keywords"
    options_type = RedditOptions
    options: RedditOptions
    demo = Demo(
        fixtures=("reddit_listing.json",),
        routes={r"/search\.json": _demo_page},
        table=lambda at: {"base_url": at.base, "keywords": ["SonicWave"], "brand": at.brand},
        per_page=(1,),
    )

    @staticmethod
    @gc_paused
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], str | None]:
        """Posts (t3) and comments (t1) of one Listing, and its `after` token."""
        source, at = context.source, context.at
        data = _LISTING.decode(body)
        if data is None:
            data = load_json(body, source, context.origin)  # the full decode, to name what is wrong
        listing = data.get("data") if isinstance(data, dict) and data.get("kind") == "Listing" else None
        if not isinstance(listing, dict) or not isinstance(listing.get("children"), list):
            raise LayoutChanged(source, f"not a Listing with data.children{at}")
        children = ((f"data.children[{index}]", child) for index, child in enumerate(listing["children"]))
        mentions = parse_items(context, children, lambda child, item: _mention(child, item, context), Child)
        after = listing.get("after")
        return mentions, after if isinstance(after, str) else None

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        params: dict[str, Any] = {"q": target.value, "sort": "new", "t": "all", "limit": 100, "raw_json": 1}
        path = "/search.json"
        if sub := target.entry(RedditTarget).subreddit:
            path, params["restrict_sr"] = f"/r/{sub}/search.json", 1
        if token:
            params["after"] = token
        resp = self.get(self.base_url + path, params=params)
        mentions, after = self.read_page(resp.text, self.context(target, resp.url))
        return Fetched(mentions, after if mentions and after and after != token else None)
