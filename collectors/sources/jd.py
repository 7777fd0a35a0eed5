"""JD.com product comments (club.jd.com productPageComments, JSON or JSONP).

URL: https://club.jd.com/comment/productPageComments.action?callback=fetchJSON_comment98&productId={sku}
     &score=0&sortType=5&page={n}&pageSize=10&isShadowSku=0&rid=0&fold=1
Targets: `skus`, product ids (a table may set `score`, JD's filter: 0 all, 1 poor ... 5 追评).
Needs: `Referer: https://item.jd.com/{sku}.html` (sent by default); since late 2023
       JD answers `{}` without a logged-in cookie (Dimlitter/jd_AutoComment#46), so set `cookie_env`;
       an answer of `{}` is reported as blocked. The newer api.m.jd.com endpoint answers 403.
Paging: page from 0, 10 per page, `maxPage` <= 100 (at most 100 pages per filter).
Times: "YYYY-MM-DD HH:MM:SS" in Beijing time (UTC+8).
Ids: comments[].id (int64).
Text: `content` (and a follow-up's) is plain text in which characters may come as HTML entities.
Body: JSONP with a varying callback name; some responses are GBK.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Annotated, Any

import msgspec

from collectors.base import Demo, DemoFixtures, ParseContext, Reply
from collectors.items import RawFields, item_id, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.partial import LEAF, PartialDecoder
from collectors.text import CHINA, as_int, beijing_fast, china_local, gc_paused, load_json, unescaped_text
from koubei.errors import LayoutChanged, ParseError, SourceBlocked
from koubei.records import Mention

BASE_URL = "https://club.jd.com"
PATH = "/comment/productPageComments.action"
PAGE_SIZE = 10  # fixed by the server
MAX_PAGE = 100  # the API refuses page >= 100
# fetchJSON_comment98vv122({...}); : the callback name varies per page view.
_CALLBACK = re.compile(r"\s*[\w$.]+\s*$")
_CALLBACK_BYTES = re.compile(rb"\s*[\w$.]+\s*$")
# The text goes to its own column; raw keeps the rest of what carries meaning, never who wrote it.
RAW = RawFields(
    keep=(
        "id",
        "guid",
        "creationTime",
        "referenceId",
        "referenceName",
        "referenceTime",
        "score",
        "usefulVoteCount",
        "uselessVoteCount",
        "replyCount",
        "productColor",
        "productSize",
        "userLevelName",
        "userClientShow",
        "isMobile",
        "days",
        "afterDays",
        "imageCount",
        "status",
    ),
    personal=("nickname", "userImage", "userImageUrl"),
)


class FollowUp(msgspec.Struct):
    content: str | None = None


class AfterComment(msgspec.Struct):
    hAfterUserComment: FollowUp | None = None
    created: str | None = None


class Comment(msgspec.Struct):
    """What read_page reads of a comment (raw keeps RAW's fields as they come)."""

    id: int | str
    creationTime: str
    content: str | None = None
    nickname: str | None = None
    score: int | float | str | None = None
    usefulVoteCount: int | str | None = None
    replyCount: int | str | None = None
    referenceId: int | str | None = None
    afterUserComment: AfterComment | None = None


# Everything read_page reads of a comment, and the page decoded without the rest of each ~4 KB
# comment (collectors/partial.py).
_READ_FIELDS = (*RAW.keep, "content", "nickname", "afterUserComment")
_PAGE = PartialDecoder({"comments": [dict.fromkeys(_READ_FIELDS, LEAF)], "maxPage": LEAF})


def unwrap_jsonp(text: str) -> str:
    """The JSON inside `callback(...);`; text that is not JSONP comes back as it is."""
    start = text.find("(")
    if start <= 0 or not _CALLBACK.fullmatch(text[:start]):
        return text
    end = text.rfind(")")
    return text[start + 1 : end] if end > start else text


def _unwrap_jsonp_bytes(body: bytes) -> bytes | memoryview:
    """unwrap_jsonp on the undecoded body ('(' and ')' are single bytes in UTF-8 and GBK alike).

    A view, not a copy: orjson reads UTF-8 bytes directly, so a JD page is neither
    decoded to str nor copied before it is parsed (about 3 us a comment).
    """
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
    start = body.find(b"(")
    if start <= 0 or not _CALLBACK_BYTES.fullmatch(body, 0, start):
        return body
    end = body.rfind(b")")
    return memoryview(body)[start + 1 : end] if end > start else body


def _demo_page(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved comments with ids and times of their own per page, GBK-encoded JSONP as JD sends it."""
    page = int(params.get("page", 0))
    data = site.json("jd_comments.json")
    data["maxPage"] = site.pages
    items = data["comments"] if page < site.pages else []
    for i, item in enumerate(items):
        item["id"] = int(item["id"]) + page
        item["guid"] = f"{item['guid']}-{page}"
        item["referenceId"] = params.get("productId", item["referenceId"])
        item["creationTime"] = site.when(page, i, len(items)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    data["comments"] = items
    body = f"{params.get('callback', 'fetchJSON_comment98')}vv{page}({json.dumps(data, ensure_ascii=False)});"
    # The real endpoint labels its body GBK; GB18030 is its superset, so every character survives.
    return 200, "text/html;charset=GBK", body.encode("gb18030")


class JdTarget(TargetTable):
    score: Annotated[int, msgspec.Meta(ge=0, le=5)] = (
        0  # JD's filter: 0 all, 1 poor, 2 fair, 3 good, 4 with photos, 5 追评
    )


class JdOptions(HttpSourceOptions, kw_only=True):
    skus: Targets[JdTarget]
    base_url: str = BASE_URL
    referer: str = "https://item.jd.com/{sku}.html"  # sent with every request; {sku} is the target


class JdCollector(HttpCollector):
    name = "jd"
    target_key = "skus"
    options_type = JdOptions
    options: JdOptions
    demo = Demo(
        fixtures=("jd_comments.json",),
        routes={re.escape(PATH): _demo_page},
        table=lambda at: {"base_url": at.base, "skus": ["2667959"], "brand": at.brand, "product": at.product},
        per_page=(2,),
    )

    @staticmethod
    @gc_paused
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], int]:
        """Mentions of one page and the page count the server reports (maxPage)."""
        source, at = context.source, context.at
        unwrapped = _unwrap_jsonp_bytes(body) if isinstance(body, bytes) else unwrap_jsonp(body)
        data = _PAGE.decode(unwrapped)
        if data is None or "comments" not in data:
            data = load_json(unwrapped, source, context.origin)  # the full decode, to name what is wrong
        if not isinstance(data, dict):
            raise ParseError(source, f"expected a JSON object{at}, got {type(data).__name__}")
        if not data:
            raise SourceBlocked(
                source,
                f"answered {{}}{at}: JD does this without a logged-in cookie (set cookie_env for this source)",
            )
        if "comments" not in data:
            raise LayoutChanged(source, f"no 'comments' key{at}; keys are {sorted(data)[:8]}")
        comments = data["comments"] or []
        if not isinstance(comments, list):
            raise LayoutChanged(source, f"'comments' is {type(comments).__name__}, not a list{at}")

        def mention(comment: Comment, item: dict[str, Any]) -> Mention:
            text = unescaped_text(comment.content)
            raw = RAW.of(item)
            after = comment.afterUserComment
            if after and after.hAfterUserComment and (follow_up := unescaped_text(after.hAfterUserComment.content)):
                # A 追评 (follow-up review, days later) is part of what the buyer says about the product.
                text = f"{text}\n追评：{follow_up}" if text else f"追评：{follow_up}"
                raw["afterCreated"] = after.created
            sku = comment.referenceId
            score = comment.score
            return Mention(
                source=source,
                native_id=item_id(comment.id, "id"),
                text=text,
                # The fast form first: the error location is built only for the others.
                published_at=beijing_fast(comment.creationTime)
                or china_local(comment.creationTime, "creationTime", source),
                url=f"https://item.jd.com/{sku}.html" if sku else None,
                author=comment.nickname,
                rating=float(score) if score else None,
                brand=context.brand,
                product=context.product,
                language="zh",
                likes=as_int(comment.usefulVoteCount),
                replies=as_int(comment.replyCount),
                raw=raw,
            )

        items = ((f"comments[{index}]", item) for index, item in enumerate(comments))
        return parse_items(context, items, mention, Comment), as_int(data.get("maxPage")) or 0

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        page = int(token or 0)
        params = {
            "callback": "fetchJSON_comment98",
            "productId": target.value,
            "score": target.entry(JdTarget).score,
            "sortType": 5,
            "page": page,
            "pageSize": PAGE_SIZE,
            "isShadowSku": 0,
            "rid": 0,
            "fold": 1,
        }
        referer = self.options.referer.format(sku=target.value)
        resp = self.get(self.base_url + PATH, params=params, headers={"Referer": referer})
        # resp.text decodes by the charset header, else by sniffing (some JD answers are GBK).
        mentions, max_page = self.read_page(resp.text, self.context(target, resp.url))
        more = mentions and page + 1 < min(max_page, MAX_PAGE)
        return Fetched(mentions, page + 1 if more else None)
