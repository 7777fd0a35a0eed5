"""Bilibili video comments (api.bilibili.com x/v2/reply, JSON).

URL: https://api.bilibili.com/x/v2/reply?type=1&oid={aid}&sort=0&pn={n}&ps=20
Targets: `oids`, numeric avids (not BV ids).
Needs: a cookie with buvid3 (anonymous) or SESSDATA (logged in); set `cookie_env`. Hosting IPs get
       code -412 "request was banned" (SocialSisterYi/bilibili-API-collect#872); -352 and -401 are risk control.
Paging: pn from 1, ps at most 20; data.page.count is the number of root comments.
Quirk: the API has answered {"code":0,"message":"0","ttl":1} with no data at all (PR #538): an error here.
Times: ctime, Unix seconds (UTC).
Ids: rpid_str (rpid is an int64 JS tooling mangles).
Text: content.message is plain text (emotes as [doge]).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from collectors.base import Demo, DemoFixtures, ParseContext, Reply, json_reply
from collectors.items import RawFields, item_id, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.partial import LEAF, PartialDecoder
from collectors.text import as_int, from_epoch, gc_paused, load_json, plain_text
from koubei.errors import LayoutChanged, ParseError, SourceBlocked, SourceUnavailable
from koubei.records import Mention

BASE_URL = "https://api.bilibili.com"
PAGE_SIZE = 20
# raw keeps what carries meaning (and the writer's level below), never who wrote it.
RAW = RawFields(
    keep=("rpid_str", "oid", "type", "root_str", "parent_str", "ctime", "like", "rcount"), personal=("member", "mid")
)
# Codes Bilibili uses when its risk control refuses a client.
BLOCKED_CODES = {-352, -401, -403, -412, -509, 12002}
# Everything read_page reads, decoded without the rest of each reply (collectors/partial.py).
_REPLY = {
    **dict.fromkeys((*RAW.keep, "rpid", "ctime"), LEAF),
    "content": {"message": LEAF},
    "member": {"uname": LEAF, "level_info": {"current_level": LEAF}},
}
_ANSWER = PartialDecoder(
    {
        "code": LEAF,
        "message": LEAF,
        "data": {"replies": [{**_REPLY, "replies": [_REPLY]}], "page": dict.fromkeys(("num", "size", "count"), LEAF)},
    }
)


class Content(msgspec.Struct):
    message: str | None = None


class LevelInfo(msgspec.Struct):
    current_level: int | None = None


class Member(msgspec.Struct):
    uname: str | None = None
    level_info: LevelInfo | None = None


class Comment(msgspec.Struct):
    """What read_page reads of a reply; raw keeps RAW's fields as they come."""

    ctime: int | float
    rpid_str: str | None = None
    rpid: int | str | None = None
    oid: int | str | None = None
    content: Content | None = None
    member: Member | None = None
    like: int | str | None = None
    rcount: int | str | None = None


def _replies(roots: list[Any]) -> Iterator[tuple[str, Any]]:
    """Each root reply and the sub-replies Bilibili inlines under it, with their places."""
    for index, root in enumerate(roots):
        yield f"data.replies[{index}]", root
        subs = root.get("replies") if isinstance(root, dict) else None
        for sub_index, sub in enumerate(subs if isinstance(subs, list) else []):
            yield f"data.replies[{index}].replies[{sub_index}]", sub


def _mention(reply: Comment, item: dict[str, Any], context: ParseContext) -> Mention:
    rpid = item_id(reply.rpid_str or reply.rpid, "rpid")
    oid = reply.oid
    level = reply.member.level_info.current_level if reply.member and reply.member.level_info else None
    return Mention(
        source=context.source,
        native_id=rpid,
        text=plain_text(reply.content.message if reply.content else None),
        published_at=from_epoch(reply.ctime, "ctime", context.source),
        url=f"https://www.bilibili.com/video/av{oid}#reply{rpid}" if oid else None,
        author=reply.member.uname if reply.member else None,
        brand=context.brand,
        product=context.product,
        language="zh",
        likes=as_int(reply.like),
        replies=as_int(reply.rcount),
        raw={**RAW.of(item), "level": level},
    )


def _demo_page(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved replies with ids and times of their own per page."""
    page = int(params.get("pn", 1))
    data = site.json("bilibili_replies.json")
    per_page = len(data["data"]["replies"])
    replies = data["data"]["replies"] if page <= site.pages else []
    for i, reply in enumerate(replies):
        reply["rpid"] = int(reply["rpid"]) + page
        reply["rpid_str"] = str(reply["rpid"])
        reply["oid"] = int(params.get("oid", reply["oid"]))
        reply["ctime"] = int(site.when(page - 1, i, len(replies)).timestamp())
    data["data"]["replies"] = replies
    data["data"]["page"] = {"num": page, "size": per_page, "count": site.pages * per_page, "acount": 0}
    return json_reply(data)


class BilibiliOptions(HttpSourceOptions, kw_only=True):
    oids: Targets[TargetTable]  # numeric avids, not BV ids
    base_url: str = BASE_URL


class BilibiliCollector(HttpCollector):
    name = "bilibili"
    target_key = "oids"
    options_type = BilibiliOptions
    options: BilibiliOptions
    demo = Demo(
        fixtures=("bilibili_replies.json",),
        routes={"/x/v2/reply": _demo_page},
        table=lambda at: {"base_url": at.base, "oids": ["2"], "brand": at.brand},
        per_page=(4,),
    )

    @staticmethod
    @gc_paused
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], bool]:
        """Comments of one page, and whether data.page says more root comments follow."""
        source, at = context.source, context.at
        data = _ANSWER.decode(body)
        if data is None:
            data = load_json(body, source, context.origin)  # the full decode, to name what is wrong
        if not isinstance(data, dict) or "code" not in data:
            raise LayoutChanged(source, f"no 'code' field{at}: not an x/v2/reply answer")
        code = data["code"]
        if not isinstance(code, int):
            raise LayoutChanged(source, f"code {code!r}{at} is not a number: not an x/v2/reply answer")
        if code in BLOCKED_CODES:
            raise SourceBlocked(
                source,
                f"code {code} {data.get('message', '')!r}{at}: Bilibili's risk control refused "
                "us (set cookie_env with buvid3/SESSDATA, slow down)",
            )
        if code != 0:
            raise SourceUnavailable(source, f"code {code} {data.get('message', '')!r}{at}")
        payload = data.get("data")
        if not isinstance(payload, dict):
            raise ParseError(
                source, f"answered code 0 without data{at} (a known failure of x/v2/reply): no comments read"
            )
        roots = payload.get("replies") or []
        if not isinstance(roots, list):
            raise LayoutChanged(source, f"data.replies is {type(roots).__name__}, not a list{at}")
        mentions = parse_items(context, _replies(roots), lambda reply, item: _mention(reply, item, context), Comment)
        page = payload.get("page")
        if not isinstance(page, dict):
            page = {}
        num, size, count = (as_int(page.get(k)) or 0 for k in ("num", "size", "count"))
        return mentions, bool(mentions) and num * size < count

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        page = int(token or 1)
        params = {"type": 1, "oid": target.value, "sort": 0, "pn": page, "ps": PAGE_SIZE}
        resp = self.get(
            self.base_url + "/x/v2/reply",
            params=params,
            headers={"Referer": f"https://www.bilibili.com/video/av{target.value}"},
        )
        mentions, more = self.read_page(resp.text, self.context(target, resp.url))
        return Fetched(mentions, page + 1 if more else None)
