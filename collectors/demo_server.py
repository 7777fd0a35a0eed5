"""`koubei demo-sources`: the real response formats served on 127.0.0.1.

Serves the fixtures of ../shared/fixtures/sources at URL paths that mimic each
site (/jd/comment/productPageComments.action, /weibo/api/container/getIndex,
/bilibili/x/v2/reply, /douban/subject/ID/comments, /appstore/CC/rss/...,
/hn/api/v1/search_by_date, /reddit/search.json, /feeds/*.xml, /forum/),
with paging: each page is the fixture's items with ids made unique per page
and times moved to the recent past, so the dashboard shows them. Times are
fixed when the server starts, so a second `koubei collect` finds nothing new.
JD is served as GBK-encoded JSONP, as the real endpoint does.

Only for demos and the benchmark; the product itself never needs ../shared.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from collectors.text import CHINA
from koubei.errors import ConfigError

DEFAULT_FIXTURES = Path("../shared/fixtures/sources")
FIXTURE_FILES = [
    "jd_comments.json",
    "weibo_search.json",
    "bilibili_replies.json",
    "douban_comments.html",
    "appstore_reviews.json",
    "hn_algolia.json",
    "reddit_listing.json",
    "news_rss.xml",
    "news_atom.xml",
]
STEP = timedelta(hours=2)  # time between two consecutive demo items

Reply = tuple[int, str, bytes]  # status, content type, body


class DemoSite:
    """Builds each page from the fixtures; pure, so tests can call it without a server."""

    def __init__(self, fixtures: Path, pages: int = 3, now: datetime | None = None) -> None:
        if not fixtures.is_dir():
            raise ConfigError(
                f"fixtures directory not found: {fixtures} (pass --fixtures DIR; it holds "
                "jd_comments.json, weibo_search.json, ... from ../shared/fixtures/sources)"
            )
        missing = [name for name in FIXTURE_FILES if not (fixtures / name).is_file()]
        if missing:
            raise ConfigError(f"{fixtures} lacks {', '.join(missing)}")
        self.fixtures = fixtures
        self.pages = pages
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self._text = {name: (fixtures / name).read_text(encoding="utf-8") for name in FIXTURE_FILES}
        self._json = {name: json.loads(text) for name, text in self._text.items() if name.endswith(".json")}
        self.requests = 0

    def when(self, page: int, index: int, per_page: int) -> datetime:
        return self.now - STEP * (page * per_page + index + 1)

    # -- routing
    def route(self, path: str, query: dict[str, str]) -> Reply:
        self.requests += 1
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        routes: list[tuple[str, Callable[..., Reply]]] = [
            (r"^/jd/comment/productPageComments\.action$", self.jd),
            (r"^/weibo/api/container/getIndex$", self.weibo),
            (r"^/weibo/statuses/extend$", self.weibo_extend),
            (r"^/bilibili/x/v2/reply$", self.bilibili),
            (r"^/douban/subject/(?P<subject>\w+)/comments$", self.douban),
            (
                r"^/appstore/(?P<cc>\w+)/rss/customerreviews/page=(?P<page>\d+)/id=(?P<app>\d+)/sortby=mostrecent/json$",
                self.appstore,
            ),
            (r"^/hn/api/v1/search_by_date$", self.hn),
            (r"^/reddit/search\.json$", self.reddit),
            (r"^/feeds/rss\.xml$", self.rss),
            (r"^/feeds/atom\.xml$", self.atom),
            (r"^/forum/?$", self.forum),
        ]
        for pattern, handler in routes:
            if m := re.match(pattern, path):
                return handler(query, **m.groupdict())
        return 404, "text/plain", f"no demo route for {path}".encode()

    @staticmethod
    def _json_reply(data: Any) -> Reply:
        return 200, "application/json; charset=utf-8", json.dumps(data, ensure_ascii=False).encode("utf-8")

    # -- sites
    def jd(self, q: dict[str, str]) -> Reply:
        page = int(q.get("page", 0))
        data = copy.deepcopy(self._json["jd_comments.json"])
        data["maxPage"] = self.pages
        items = data["comments"] if page < self.pages else []
        for i, item in enumerate(items):
            item["id"] = int(item["id"]) + page
            item["guid"] = f"{item['guid']}-{page}"
            item["referenceId"] = q.get("productId", item["referenceId"])
            item["creationTime"] = self.when(page, i, len(items)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
        data["comments"] = items
        body = f"{q.get('callback', 'fetchJSON_comment98')}vv{page}({json.dumps(data, ensure_ascii=False)});"
        # The real endpoint labels its body GBK; GB18030 is its superset, so every character survives.
        return 200, "text/html;charset=GBK", body.encode("gb18030")

    def weibo(self, q: dict[str, str]) -> Reply:
        page = int(q.get("page", 1))
        data = copy.deepcopy(self._json["weibo_search.json"])
        if page > self.pages:
            return self._json_reply({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
        posts = [c["mblog"] for c in data["data"]["cards"] if "mblog" in c]
        posts += [g["mblog"] for c in data["data"]["cards"] for g in c.get("card_group", []) if "mblog" in g]
        for i, mblog in enumerate(posts):
            new_id = str(int(mblog["id"]) + page)
            mblog["id"] = mblog["mid"] = new_id
            mblog["text"] = mblog["text"].replace(f"/status/{int(new_id) - page}", f"/status/{new_id}")
            mblog["bid"] = f"{mblog['bid']}{page}"
            mblog["created_at"] = (
                self.when(page - 1, i, len(posts)).astimezone(CHINA).strftime("%a %b %d %H:%M:%S %z %Y")
            )
        data["data"]["cardlistInfo"]["page"] = page + 1 if page < self.pages else None
        return self._json_reply(data)

    def weibo_extend(self, q: dict[str, str]) -> Reply:
        return self._json_reply(
            {
                "ok": 1,
                "data": {
                    "longTextContent": f"测试品牌客服半天不回消息，退货流程太麻烦了，打了三次电话都说等通知。"
                    f"<br />（全文，微博 {q.get('id', '')}）"
                },
            }
        )

    def bilibili(self, q: dict[str, str]) -> Reply:
        page = int(q.get("pn", 1))
        data = copy.deepcopy(self._json["bilibili_replies.json"])
        replies = data["data"]["replies"] if page <= self.pages else []
        for i, reply in enumerate(replies):
            reply["rpid"] = int(reply["rpid"]) + page
            reply["rpid_str"] = str(reply["rpid"])
            reply["oid"] = int(q.get("oid", reply["oid"]))
            reply["ctime"] = int(self.when(page - 1, i, len(replies)).timestamp())
        data["data"]["replies"] = replies
        data["data"]["page"] = {
            "num": page,
            "size": len(self._json["bilibili_replies.json"]["data"]["replies"]),
            "count": self.pages * len(self._json["bilibili_replies.json"]["data"]["replies"]),
            "acount": 0,
        }
        return self._json_reply(data)

    def douban(self, q: dict[str, str], subject: str) -> Reply:
        start = int(q.get("start", 0))
        page = start // 20
        html = self._text["douban_comments.html"]
        cids = re.findall(r'data-cid="(\d+)"', html)
        if page >= self.pages:
            html = re.sub(
                r'(<div class="mod-bd" id="comments">).*(</div>\s*</body>)',
                r"\1\n    </div>\n\2",
                html,
                flags=re.DOTALL,
            )
            return 200, "text/html; charset=utf-8", html.encode("utf-8")
        for cid in cids:
            html = html.replace(f'data-cid="{cid}"', f'data-cid="{int(cid) + page}"')
        stamps = iter(
            self.when(page, i, len(cids)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") for i in range(len(cids))
        )
        html = re.sub(
            r'(class="comment-time " title=")[^"]+(")', lambda m: m.group(1) + next(stamps) + m.group(2), html
        )
        if page + 1 < self.pages:
            html = html.replace(
                "</body>", f'<div id="paginator"><a class="next" href="?start={start + 20}">后页</a></div></body>'
            )
        return 200, "text/html; charset=utf-8", html.encode("utf-8")

    def appstore(self, q: dict[str, str], cc: str, page: str, app: str) -> Reply:
        number = int(page)
        data = copy.deepcopy(self._json["appstore_reviews.json"])
        entries = data["feed"]["entry"] if number <= self.pages else []
        for i, entry in enumerate(entries):
            entry["id"]["label"] = str(int(entry["id"]["label"]) + number)
            moment = self.when(number - 1, i, len(entries)).astimezone(timezone(timedelta(hours=-7)))
            entry["updated"]["label"] = moment.isoformat()
        if len(entries) == 1:
            data["feed"]["entry"] = entries[0]  # Apple's quirk: one entry is an object
        else:
            data["feed"]["entry"] = entries
        data["feed"]["link"] = [
            {
                "attributes": {
                    "rel": "last",
                    "href": f"/{cc}/rss/customerreviews/page={self.pages}/id={app}/sortby=mostrecent/xml",
                }
            }
        ]
        return self._json_reply(data)

    def hn(self, q: dict[str, str]) -> Reply:
        page = int(q.get("page", 0))
        data = copy.deepcopy(self._json["hn_algolia.json"])
        hits = data["hits"] if page < self.pages else []
        for i, hit in enumerate(hits):
            hit["objectID"] = str(int(hit["objectID"]) + page)
            moment = self.when(page, i, len(hits))
            hit["created_at_i"] = int(moment.timestamp())
            hit["created_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if m := re.match(r"created_at_i>(\d+)", q.get("numericFilters", "")):
            hits = [h for h in hits if h["created_at_i"] > int(m.group(1))]
        data["hits"], data["nbPages"], data["page"] = hits, self.pages, page
        return self._json_reply(data)

    def reddit(self, q: dict[str, str]) -> Reply:
        after = q.get("after", "")
        page = int(after.rsplit("p", 1)[1]) if after.startswith("t3_") and "p" in after[3:] else 0
        data = copy.deepcopy(self._json["reddit_listing.json"])
        children = data["data"]["children"] if page < self.pages else []
        for i, child in enumerate(children):
            post = child["data"]
            post["id"] = f"{post['id']}p{page}"
            post["name"] = f"t3_{post['id']}"
            post["created_utc"] = post["created"] = self.when(page, i, len(children)).timestamp()
        data["data"]["children"] = children
        data["data"]["after"] = f"t3_demop{page + 1}" if page + 1 < self.pages else None
        return self._json_reply(data)

    def rss(self, q: dict[str, str]) -> Reply:
        text = self._text["news_rss.xml"]
        stamps = iter(range(100))
        text = re.sub(
            r"<pubDate>[^<]+</pubDate>",
            lambda m: "<pubDate>" + self.when(0, next(stamps), 1).strftime("%a, %d %b %Y %H:%M:%S GMT") + "</pubDate>",
            text,
        )
        return 200, "application/rss+xml; charset=utf-8", text.encode("utf-8")

    def atom(self, q: dict[str, str]) -> Reply:
        text = self._text["news_atom.xml"].replace(
            "<updated>2026-09-23T18:21:37Z</updated>",
            f"<updated>{self.when(0, 0, 1).strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>",
        )
        return 200, "application/atom+xml; charset=utf-8", text.encode("utf-8")

    def forum(self, q: dict[str, str]) -> Reply:
        # The generic `html` source reads this page with selectors from its config.
        return self.douban(q, "forum")


def serve(site: DemoSite, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start serving `site` in a background thread; returns the server (server_address has the port)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            status, content_type, body = site.route(parts.path, query)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="koubei-demo-sources", daemon=True).start()
    return server


def demo_sources_config(base: str, brands: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """[sources.*] tables that point every real source kind at the demo server."""
    brand_names = [b.get("name") for b in brands or [] if b.get("name")] or ["声浪"]
    products = [p for b in brands or [] for p in b.get("products", [])] or ["声浪X1耳机"]
    brand, other = brand_names[0], brand_names[-1]
    polite = {"min_interval": 0.0, "retries": 1, "backoff": 0.05, "timeout": 5.0}
    return {
        "jd": {
            "kind": "jd",
            "base_url": f"{base}/jd",
            "brand": brand,
            "product": products[0],
            "skus": ["2667959"],
            **polite,
        },
        "weibo": {"kind": "weibo", "base_url": f"{base}/weibo", "brand": brand, "keywords": [brand], **polite},
        "bilibili": {"kind": "bilibili", "base_url": f"{base}/bilibili", "brand": brand, "oids": ["2"], **polite},
        "douban": {"kind": "douban", "base_url": f"{base}/douban", "brand": other, "subjects": ["26934346"], **polite},
        "appstore": {
            "kind": "appstore",
            "base_url": f"{base}/appstore",
            "brand": brand,
            "app_ids": ["1592550875"],
            "cc": "cn",
            **polite,
        },
        "hackernews": {
            "kind": "hackernews",
            "base_url": f"{base}/hn",
            "brand": brand,
            "keywords": ["SonicWave"],
            **polite,
        },
        "reddit": {"kind": "reddit", "base_url": f"{base}/reddit", "brand": brand, "keywords": ["SonicWave"], **polite},
        "news": {
            "kind": "feed",
            "brand": other,
            "feeds": [f"{base}/feeds/rss.xml", f"{base}/feeds/atom.xml"],
            **polite,
        },
        "forum": {
            "kind": "html",
            "brand": other,
            "urls": [f"{base}/forum/"],
            **polite,
            "selectors": {
                "item": ".comment-item",
                "text": "p",
                "id": "@data-cid",
                "time": ".comment-time@title",
                "author": ".comment-info > a",
                "likes": ".votes",
                "rating": ".rating@class",
                "rating_scale": "10",
                "next": "a.next@href",
            },
        },
    }


# ---------------------------------------------------------------- TOML writing (no writer in the stdlib)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def to_toml(raw: dict[str, Any]) -> str:
    """A settings dict (tables, arrays of tables, scalars) as TOML text."""
    lines: list[str] = []

    def table(prefix: str, data: dict[str, Any]) -> None:
        scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and not _is_table_array(v)}
        if prefix and (scalars or not data):
            lines.append(f"\n[{prefix}]")
        for key, value in scalars.items():
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
        for key, value in data.items():
            name = f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)
            if isinstance(value, dict):
                table(name, value)
            elif _is_table_array(value):
                for entry in value:
                    lines.append(f"\n[[{name}]]")
                    for k, v in entry.items():
                        lines.append(f"{_toml_key(k)} = {_toml_value(v)}")

    table("", raw)
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def demo_settings(raw: dict[str, Any], base: str, db: Path | None = None) -> dict[str, Any]:
    """The current config with [sources] replaced by the demo server's sources (demo kept off)."""
    out = {k: v for k, v in raw.items() if k != "sources"}
    if db is not None:
        out["storage"] = {**out.get("storage", {}), "db": str(db)}
    out["sources"] = demo_sources_config(base, raw.get("brands"))
    return out
