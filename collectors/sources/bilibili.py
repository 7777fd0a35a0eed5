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

from typing import Any

from collectors.base import Demo, DemoFixtures, ParseContext, Reply, json_reply
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.partial import LEAF, PartialDecoder
from collectors.text import as_int, from_epoch, gc_paused, load_json, pick, plain_text
from koubei.errors import LayoutChanged, ParseError, SourceBlocked, SourceUnavailable
from koubei.records import Mention

BASE_URL = "https://api.bilibili.com"
PAGE_SIZE = 20
RAW_FIELDS = ("rpid_str", "oid", "type", "root_str", "parent_str", "ctime", "like", "rcount")
# Codes Bilibili uses when its risk control refuses a client.
BLOCKED_CODES = {-352, -401, -403, -412, -509, 12002}
# Everything read_page reads, decoded without the rest of each reply (collectors/partial.py).
_REPLY = {
    **dict.fromkeys((*RAW_FIELDS, "rpid", "ctime"), LEAF),
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


def _replies(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """A root reply and the sub-replies Bilibili inlines under it."""
    return [reply] + [sub for sub in (reply.get("replies") or []) if isinstance(sub, dict)]


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
        mentions = []
        for index, root in enumerate(payload.get("replies") or []):
            for reply in _replies(root):
                where = f"data.replies[{index}]{at}"
                rpid = reply.get("rpid_str") or reply.get("rpid")
                if not rpid:
                    raise ParseError(source, f"{where}: reply without rpid")
                content = reply.get("content") or {}
                oid = reply.get("oid")
                mentions.append(
                    Mention(
                        source=source,
                        native_id=str(rpid),
                        text=plain_text(content.get("message")),
                        published_at=from_epoch(reply.get("ctime"), f"{where}.ctime", source),
                        url=f"https://www.bilibili.com/video/av{oid}#reply{rpid}" if oid else None,
                        author=(reply.get("member") or {}).get("uname"),
                        brand=context.brand,
                        product=context.product,
                        language="zh",
                        likes=as_int(reply.get("like")),
                        replies=as_int(reply.get("rcount")),
                        raw={
                            **pick(reply, RAW_FIELDS),
                            "level": ((reply.get("member") or {}).get("level_info") or {}).get("current_level"),
                        },
                    )
                )
        page = payload.get("page") or {}
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
