"""Weibo search and timelines through m.weibo.cn (JSON).

URL: https://m.weibo.cn/api/container/getIndex?containerid=100103type%3D1%26q%3D{kw}&page_type=searchall&page={n}
Targets: `keywords` (a user timeline: a table {id = "...", containerid = "107603{uid}"}).
Needs: a cookie (visitor passport or logged in; Panniantong/Agent-Reach#116); set `cookie_env`.
Limits: IP and account limits answer 414/418 (Euclid-Jie/Euclidweibo-search#6); keep min_interval high.
Paging: `page` from 1; data.cardlistInfo.page names the next page; stop when cards are empty or ok != 1.
Times: "Thu Jul 16 16:31:14 +0800 2026" in newer answers; older ones say 刚刚, 15分钟前, 15小时前,
       昨天 12:30, 06-27 or 2019-06-27, all Beijing time (UTC+8), resolved against the fetch time;
       such an approximate time keeps its first sighting (a refetch is not an update).
Ids: mblog.id (16 digits, sometimes a string).
Text: mblog.text is HTML; `isLongText` or a trailing 全文 link means the text is truncated: the
      collector fetches {base}/statuses/extend?id= for the full text once (full_text = true).
Reposts: a repost yields the original post (retweeted_status) too.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec

from collectors.base import Demo, DemoFixtures, ParseContext, Reply, json_reply
from collectors.items import RawFields, item_id, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.text import CHINA, as_int, gc_paused, html_to_text, load_json
from koubei.errors import CollectorError, LayoutChanged, ParseError
from koubei.records import Mention

BASE_URL = "https://m.weibo.cn"
SEARCH_CONTAINER = "100103type=1&q={keyword}"

_MINUTES_AGO = re.compile(r"^(\d+)\s*分钟前$")
_HOURS_AGO = re.compile(r"^(\d+)\s*小时前$")
_SECONDS_AGO = re.compile(r"^(\d+)\s*秒前$")
# "刚刚", "30秒前", "15分钟前", "15小时前": resolved against the fetch time, so they move a
# little with every fetch (today's and yesterday's HH:MM, and MM-DD, do not).
_AGO = re.compile(r"^(?:刚刚|刚才|\d+\s*(?:秒|分钟|小时)前)$")
_YESTERDAY = re.compile(r"^昨天\s*(\d{1,2}):(\d{2})$")
_TODAY = re.compile(r"^今天\s*(\d{1,2}):(\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
# The "...全文" link Weibo appends to a truncated post, with the ellipsis before it.
_FULL_TEXT_LINK = re.compile(r"(?:\.\.\.|…)?\s*<a[^>]*href=\"[^\"]*/status(?:es)?/[^\"]*\"[^>]*>\s*全文\s*</a>\s*$")
# The text goes to its own column; raw keeps the rest of what carries meaning, and of the
# user only how far a post reaches, never who wrote it.
RAW = RawFields(
    keep=(
        "id",
        "mid",
        "bid",
        "created_at",
        "textLength",
        "isLongText",
        "source",
        "reposts_count",
        "comments_count",
        "attitudes_count",
        "pic_num",
        "region_name",
        "mblogtype",
    ),
    personal=("user",),
)
USER_RAW = RawFields(
    keep=("verified", "verified_type", "followers_count", "mbrank"),
    personal=("id", "screen_name", "profile_url", "profile_image_url", "description"),
)
_COUNT = re.compile(r"^(\d+(?:\.\d+)?)\s*(万|亿)?\+?$")


_MONTHS = {
    m: i
    for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)
}


def _absolute(value: str) -> datetime | None:
    """ "Thu Jul 16 16:31:14 +0800 2026" without strptime (5x faster; one call per post)."""
    parts = value.split(" ")
    if len(parts) != 6 or parts[1] not in _MONTHS or len(parts[3]) != 8 or len(parts[4]) != 5:
        return None
    try:
        hms = parts[3]
        return datetime(
            int(parts[5]),
            _MONTHS[parts[1]],
            int(parts[2]),
            int(hms[0:2]),
            int(hms[3:5]),
            int(hms[6:8]),
            tzinfo=_zone(parts[4]),
        ).astimezone(UTC)
    except ValueError:
        return None


@functools.cache
def _zone(spec: str) -> timezone:
    """ "+0800" as a tzinfo; cached, as every post of a page carries the same one."""
    offset = timedelta(hours=int(spec[1:3]), minutes=int(spec[3:5]))
    return timezone(offset if spec[0] == "+" else -offset)


def parse_time(value: str, now: datetime, source: str = "weibo", where: str = "created_at") -> datetime:
    """Weibo's created_at in any of its formats, to UTC. Relative forms resolve against `now`.

    Weibo returns relative times like 15小时前 for recent posts and MM-DD without a
    year for posts of this year (seen in answers since at least 2019).
    """
    value = (value or "").strip()
    if fast := _absolute(value):
        return fast
    local_now = now.astimezone(CHINA)
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        pass
    if value in ("刚刚", "刚才"):
        return now.astimezone(UTC)
    if m := _SECONDS_AGO.match(value):
        return (now - timedelta(seconds=int(m.group(1)))).astimezone(UTC)
    if m := _MINUTES_AGO.match(value):
        return (now - timedelta(minutes=int(m.group(1)))).astimezone(UTC)
    if m := _HOURS_AGO.match(value):
        return (now - timedelta(hours=int(m.group(1)))).astimezone(UTC)
    if m := _TODAY.match(value):
        return local_now.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0).astimezone(UTC)
    if m := _YESTERDAY.match(value):
        day = local_now - timedelta(days=1)
        return day.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0).astimezone(UTC)
    if m := _MONTH_DAY.match(value):
        hour, minute = int(m.group(3) or 0), int(m.group(4) or 0)
        moment = local_now.replace(
            month=int(m.group(1)), day=int(m.group(2)), hour=hour, minute=minute, second=0, microsecond=0
        )
        if moment > local_now:  # "12-31" seen on 01-02 is last year's
            moment = moment.replace(year=moment.year - 1)
        return moment.astimezone(UTC)
    if m := _FULL_DATE.match(value):
        year, month, mday, hour, minute, second = (int(p) if p else 0 for p in m.groups())
        return datetime(year, month, mday, hour, minute, second, tzinfo=CHINA).astimezone(UTC)
    raise ParseError(source, f"{where}: unknown Weibo time format {value!r}")


def is_relative_time(value: str) -> bool:
    return bool(_AGO.match((value or "").strip()))


def parse_count(value: Any) -> int | None:
    """Counts are ints, or strings such as "100万+" on popular posts."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    m = _COUNT.match(str(value).strip())
    if not m:
        return None
    scale = {"万": 10_000, "亿": 100_000_000}.get(m.group(2) or "", 1)
    return int(float(m.group(1)) * scale)


class User(msgspec.Struct):
    screen_name: str | None = None


class Post(msgspec.Struct):
    """What read_page reads of a post (mblog); raw keeps RAW's fields as they come."""

    created_at: str
    id: int | str | None = None
    mid: int | str | None = None
    idstr: str | None = None
    bid: str | None = None
    text: str | None = None
    isLongText: bool | None = None
    user: User | None = None
    attitudes_count: int | str | None = None
    reposts_count: int | str | None = None
    comments_count: int | str | None = None


def is_truncated(post: Post) -> bool:
    if post.isLongText:
        return True
    text = post.text or ""
    return "全文" in text and bool(_FULL_TEXT_LINK.search(text))  # the cheap test first: one call per post


def _count(value: int | str | None) -> int | None:
    return value if type(value) is int else parse_count(value)


def _mention(post: Post, item: dict[str, Any], context: ParseContext) -> Mention:
    source = context.source
    mid = item_id(post.id or post.mid or post.idstr, "id")
    raw_html = post.text or ""
    truncated = is_truncated(post)
    text = html_to_text(_FULL_TEXT_LINK.sub("", raw_html)) if truncated else html_to_text(raw_html)
    raw = RAW.of(item)
    user = item.get("user")
    raw["user"] = USER_RAW.of(user) if isinstance(user, dict) else {}  # how far it reaches, not who it is
    if isinstance(retweeted := item.get("retweeted_status"), dict):
        raw["retweeted_id"] = str(retweeted.get("id"))
    if truncated:
        raw["koubei_truncated"] = True
    created = post.created_at
    published_at = _absolute(created)  # the usual form first: the error location is built only for the others
    return Mention(
        source=source,
        native_id=mid,
        text=text,
        published_at=published_at or parse_time(created, context.now, source, "created_at"),
        approximate_time=published_at is None and is_relative_time(created),
        url=f"https://m.weibo.cn/status/{post.bid or mid}",
        author=post.user.screen_name if post.user else None,
        brand=context.brand,
        product=context.product,
        language="zh",
        likes=_count(post.attitudes_count),
        reposts=_count(post.reposts_count),
        replies=_count(post.comments_count),
        raw=raw,
    )


def parse_long_text(body: bytes | str, source: str = "weibo", origin: str = "") -> str:
    """The full text from statuses/extend: {"ok": 1, "data": {"longTextContent": "<html>"}}."""
    data = load_json(body, source, origin)
    payload = data.get("data") if isinstance(data, dict) else None
    content = payload.get("longTextContent") if isinstance(payload, dict) else None
    if not content or not isinstance(content, str):
        raise LayoutChanged(source, f"no data.longTextContent in {origin or 'statuses/extend answer'}")
    return html_to_text(content)


def _demo_page(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved search answer with ids and times of their own per page; ok=0 past the last page."""
    page = int(params.get("page", 1))
    if page > site.pages:
        return json_reply({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
    data = site.json("weibo_search.json")
    posts = [c["mblog"] for c in data["data"]["cards"] if "mblog" in c]
    posts += [g["mblog"] for c in data["data"]["cards"] for g in c.get("card_group", []) if "mblog" in g]
    for i, mblog in enumerate(posts):
        new_id = str(int(mblog["id"]) + page)
        mblog["id"] = mblog["mid"] = new_id
        mblog["text"] = mblog["text"].replace(f"/status/{int(new_id) - page}", f"/status/{new_id}")
        mblog["bid"] = f"{mblog['bid']}{page}"
        mblog["created_at"] = site.when(page - 1, i, len(posts)).astimezone(CHINA).strftime("%a %b %d %H:%M:%S %z %Y")
    data["data"]["cardlistInfo"]["page"] = page + 1 if page < site.pages else None
    return json_reply(data)


def _demo_long_text(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The full text of a truncated post."""
    text = f"测试品牌客服半天不回消息，退货流程太麻烦了，打了三次电话都说等通知。<br />（全文，微博 {params.get('id', '')}）"
    return json_reply({"ok": 1, "data": {"longTextContent": text}})


class WeiboTarget(TargetTable):
    containerid: str | None = None  # a user timeline ("107603{uid}") instead of a search for the id


class WeiboOptions(HttpSourceOptions, kw_only=True):
    keywords: Targets[WeiboTarget]
    base_url: str = BASE_URL
    full_text: bool = True  # fetch the full text of truncated posts (one request each)


class WeiboCollector(HttpCollector):
    name = "weibo"
    target_key = "keywords"
    options_type = WeiboOptions
    options: WeiboOptions
    demo = Demo(
        fixtures=("weibo_search.json",),
        routes={"/api/container/getIndex": _demo_page, "/statuses/extend": _demo_long_text},
        table=lambda at: {"base_url": at.base, "keywords": [at.brand], "brand": at.brand},
        per_page=(2,),
    )

    @staticmethod
    @gc_paused
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], int | None]:
        """Posts of one getIndex answer (reposted originals included) and the next page, if any."""
        source, at = context.source, context.at
        data = load_json(body, source, context.origin)
        if not isinstance(data, dict) or "ok" not in data:
            raise LayoutChanged(source, f"not a getIndex answer{at}: no 'ok' field")
        if data.get("ok") != 1:
            return [], None  # Weibo answers ok=0 ("这里还没有内容") past the last page and for no results
        payload = data.get("data") or {}
        cards = payload.get("cards") if isinstance(payload, dict) else None
        if not isinstance(cards, list):
            raise LayoutChanged(source, f"ok=1 but no data.cards list{at}")
        posts: list[tuple[str, Any]] = []
        typed_cards = 0
        for index, card in enumerate(cards):
            if not isinstance(card, dict):
                continue
            typed_cards += "card_type" in card
            group = card.get("card_group")
            for sub, entry in enumerate([card, *(group if isinstance(group, list) else [])]):
                mblog = entry.get("mblog") if isinstance(entry, dict) else None
                if not mblog:
                    continue
                where = f"cards[{index}]" + (f".card_group[{sub - 1}]" if sub else "") + ".mblog"
                posts.append((where, mblog))
                if isinstance(mblog, dict) and mblog.get("retweeted_status"):
                    posts.append((where + ".retweeted_status", mblog["retweeted_status"]))
        mentions: list[Mention] = []
        seen: set[str] = set()
        for mention in parse_items(context, posts, lambda post, item: _mention(post, item, context), Post):
            if mention.native_id not in seen:  # an original reposted on the page twice: once
                seen.add(mention.native_id)
                mentions.append(mention)
        if cards and not posts and not typed_cards:
            raise LayoutChanged(source, f"{len(cards)} cards{at} but none has card_type or mblog: the layout changed")
        info = payload.get("cardlistInfo")
        next_page = as_int(info.get("page")) if isinstance(info, dict) else None
        return mentions, next_page if cards and next_page else None

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        page = int(token or 1)
        container = target.entry(WeiboTarget).containerid or SEARCH_CONTAINER.format(keyword=target.value)
        params = {"containerid": container, "page_type": "searchall", "page": page}
        resp = self.get(self.base_url + "/api/container/getIndex", params=params)
        mentions, next_page = self.read_page(resp.text, self.context(target, resp.url))
        dropped = False
        if self.options.full_text:
            # A truncated post already stored was stored with its full text: skip it rather
            # than spend a request on statuses/extend or overwrite it with the truncated text.
            kept = [m for m in mentions if not ((m.raw or {}).get("koubei_truncated") and self.is_known(target, m))]
            dropped = len(kept) < len(mentions)
            mentions = [self._complete(m) for m in kept]
        if next_page is not None and next_page <= page:
            next_page = None  # a server that repeats the page number would loop forever
        return Fetched(mentions, next_page, dropped_known=dropped)

    def _complete(self, mention: Mention) -> Mention:
        if not (mention.raw or {}).get("koubei_truncated"):
            return mention
        try:
            resp = self.get(self.base_url + "/statuses/extend", params={"id": mention.native_id})
            text = parse_long_text(resp.text, self.source)
        except CollectorError:
            # The truncated text is still a real mention: keep it rather than fail the page.
            return mention
        raw = {**(mention.raw or {}), "koubei_truncated": False, "koubei_full_text": True}
        return dataclasses.replace(mention, text=text, raw=raw)
