"""Douban short comments (movie.douban.com/subject/{id}/comments, HTML).

URL: {base}/subject/{id}/comments?start={0,20,...}&limit=20&status=P&sort=time
Needs: nothing for the first pages; about 200-400 comments are visible without login
       (king-wang123/Douban-MovieReview-Crawler#1) and IPs are banned after a few hundred
       requests (f-is-h/douban-to-imdb#11): keep min_interval at several seconds.
Markup: .comment-item[data-cid]; votes .votes (newer: .vote-count); user .comment-info > a;
        rating span.allstarNN (NN/10 stars, absent when unrated); time .comment-time[title]
        "YYYY-MM-DD HH:MM:SS" Beijing time; text p (newer: span.short). Both layouts are read.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Tag

from collectors.base import Fetched, HttpCollector, Target
from collectors.text import as_int, china_local
from koubei.errors import LayoutChanged, ParseError
from koubei.records import Mention, content_id

NAME = "douban"
BASE_URL = "https://movie.douban.com"
PAGE_SIZE = 20
_STARS = re.compile(r"allstar(\d+)")


def _text(node: Tag | None) -> str:
    return re.sub(r"[ \t\r\f\v\u00a0\u3000]+", " ", node.get_text("\n")).replace(" \n", "\n").strip() if node else ""


def parse_page(
    body: bytes | str,
    *,
    source: str = NAME,
    brand: str | None = None,
    product: str | None = None,
    origin: str = "",
    **_: Any,
) -> tuple[list[Mention], bool]:
    """Comments of one page, and whether the page links to a next one."""
    from collectors.http import decode_body

    at = f" from {origin}" if origin else ""
    html = decode_body(body)
    soup = BeautifulSoup(html, "lxml")
    items = soup.select(".comment-item")
    if not items:
        if soup.select_one("#comments") is not None:
            return [], False  # the list exists and is empty: past the last page
        if html.strip():
            title = _text(soup.title) if soup.title else ""
            raise LayoutChanged(
                source,
                f"no .comment-item and no #comments block{at} (page title {title!r}): "
                "the layout changed or a login/verification page was served",
            )
        raise ParseError(source, f"empty body{at}")
    mentions = []
    for index, item in enumerate(items):
        cid = item.get("data-cid")
        where = f".comment-item[{index}]" + (f" data-cid={cid}" if cid else "") + at
        text_node = item.select_one("span.short") or item.select_one(".comment p") or item.select_one("p")
        time_node = item.select_one(".comment-time")
        if text_node is None or time_node is None:
            raise LayoutChanged(source, f"{where}: no comment text (p / span.short) or .comment-time")
        stamp = str(time_node.get("title") or _text(time_node))
        fmt = "%Y-%m-%d %H:%M:%S" if ":" in stamp else "%Y-%m-%d"
        published = china_local(stamp, f"{where} .comment-time", source, fmt)
        text = _text(text_node)
        author_node = item.select_one(".comment-info > a")
        author = _text(author_node) or None
        stars = None
        rating_node = item.select_one(".comment-info .rating") or item.find("span", class_=_STARS)
        if rating_node is not None and (m := _STARS.search(" ".join(rating_node.get("class") or []))):
            stars = int(m.group(1)) / 10
        votes = item.select_one(".comment-vote .votes") or item.select_one(".vote-count")
        native_id = str(cid) if cid else content_id(author, stamp, text)
        mentions.append(
            Mention(
                source=source,
                native_id=native_id,
                text=text,
                published_at=published,
                url=f"{origin.split('?')[0]}#{native_id}" if origin else None,
                author=author,
                rating=stars,
                brand=brand,
                product=product,
                language="zh",
                likes=as_int(_text(votes)) if votes else None,
                raw={
                    "cid": cid,
                    "rating_title": rating_node.get("title") if rating_node is not None else None,
                    "time": stamp,
                },
            )
        )
    has_next = soup.select_one("#paginator a.next, a.next") is not None
    return mentions, has_next


def parse(body: bytes | str, **context: Any) -> list[Mention]:
    return parse_page(body, **context)[0]


class DoubanCollector(HttpCollector):
    name = NAME
    target_key = "subjects"
    default_base_url = BASE_URL
    default_max_pages = 5  # Douban shows a few hundred comments without login anyway
    parse = staticmethod(parse)

    def fetch(self, target: Target, token: Any) -> Fetched:
        start = int(token or 0)
        params = {"start": start, "limit": PAGE_SIZE, "status": "P", "sort": "time"}
        resp = self.get(f"{self.base_url}/subject/{target.value}/comments", params=params)
        mentions, has_next = parse_page(
            resp.text, source=self.source, brand=target.brand, product=target.product, origin=resp.url
        )
        more = bool(mentions) and (has_next or len(mentions) >= PAGE_SIZE)
        return Fetched(mentions, start + PAGE_SIZE if more else None, resp.url)
