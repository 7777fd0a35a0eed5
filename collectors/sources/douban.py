"""Douban short comments (movie.douban.com/subject/{id}/comments, HTML).

URL: https://movie.douban.com/subject/{id}/comments?start={0,20,...}&limit=20&status=P&sort=time
Targets: `subjects`, subject ids.
Needs: nothing for the first pages; about 200-400 comments are visible without login
       (king-wang123/Douban-MovieReview-Crawler#1) and IPs are banned after a few hundred
       requests (f-is-h/douban-to-imdb#11): keep min_interval at several seconds.
Paging: start in steps of 20; a.next links the next page.
Markup: .comment-item[data-cid]; votes .votes (newer: .vote-count); user .comment-info > a;
        rating span.allstarNN (NN/10 stars, absent when unrated); text p (newer: span.short).
        Both layouts are read.
Times: .comment-time[title] "YYYY-MM-DD HH:MM:SS", Beijing time (UTC+8).
Ids: data-cid, else a hash of author, time and text.
Text: the comment's element, read by an HTML parser (bs4 over lxml).
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from bs4 import BeautifulSoup, Tag

from collectors.base import Demo, DemoFixtures, ParseContext, Reply
from collectors.items import BadItem, RawFields, parse_items
from collectors.options import HttpSourceOptions, Targets, TargetTable
from collectors.paging import Fetched, HttpCollector, Target, Token
from collectors.text import CHINA, as_int, china_local, element_text
from koubei.errors import LayoutChanged, ParseError
from koubei.records import Mention, content_id

BASE_URL = "https://movie.douban.com"
PAGE_SIZE = 20
_STARS = re.compile(r"allstar(\d+)")


def demo_page(site: DemoFixtures, params: dict[str, str]) -> Reply:
    """The saved comments page with ids and times of their own per page, linking the next page;
    past the last page, the comment list is empty."""
    start = int(params.get("start", 0))
    page = start // PAGE_SIZE
    html = site.text("douban_comments.html")
    if page >= site.pages:
        html = re.sub(
            r'(<div class="mod-bd" id="comments">).*(</div>\s*</body>)', r"\1\n    </div>\n\2", html, flags=re.DOTALL
        )
        return 200, "text/html; charset=utf-8", html.encode("utf-8")
    cids = re.findall(r'data-cid="(\d+)"', html)
    for cid in cids:
        html = html.replace(f'data-cid="{cid}"', f'data-cid="{int(cid) + page}"')
    stamps = iter(
        site.when(page, i, len(cids)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") for i in range(len(cids))
    )
    html = re.sub(r'(class="comment-time " title=")[^"]+(")', lambda m: m.group(1) + next(stamps) + m.group(2), html)
    if page + 1 < site.pages:
        paginator = f'<div id="paginator"><a class="next" href="?start={start + PAGE_SIZE}">后页</a></div>'
        html = html.replace("</body>", paginator + "</body>")
    return 200, "text/html; charset=utf-8", html.encode("utf-8")


# raw keeps what carries meaning, never who wrote it (the name, the people/ URL).
RAW = RawFields(keep=("cid", "rating_title", "time"), personal=("author", "people"))


def _place(index: int, item: Tag) -> str:
    cid = item.get("data-cid")
    return f".comment-item[{index}]" + (f" data-cid={cid}" if cid else "")


def _mention(item: Tag, context: ParseContext) -> Mention:
    """One .comment-item, old or new markup."""
    source, origin = context.source, context.origin
    cid = item.get("data-cid")
    text_node = item.select_one("span.short") or item.select_one(".comment p") or item.select_one("p")
    time_node = item.select_one(".comment-time")
    if text_node is None or time_node is None:
        raise BadItem("p / span.short, .comment-time", "no comment text or time")
    stamp = str(time_node.get("title") or element_text(time_node))
    fmt = "%Y-%m-%d %H:%M:%S" if ":" in stamp else "%Y-%m-%d"
    published = china_local(stamp, ".comment-time", source, fmt)
    text = element_text(text_node)
    author = element_text(item.select_one(".comment-info > a")) or None
    stars = None
    rating_node = item.select_one(".comment-info .rating") or item.find("span", class_=_STARS)
    if isinstance(rating_node, Tag) and (m := _STARS.search(" ".join(rating_node.get("class") or []))):
        stars = int(m.group(1)) / 10
    votes = item.select_one(".comment-vote .votes") or item.select_one(".vote-count")
    native_id = str(cid) if cid else content_id(author, stamp, text)
    return Mention(
        source=source,
        native_id=native_id,
        text=text,
        published_at=published,
        url=f"{origin.split('?')[0]}#{native_id}" if origin else None,
        author=author,
        rating=stars,
        brand=context.brand,
        product=context.product,
        language="zh",
        likes=as_int(element_text(votes)) if votes else None,
        raw=RAW.of(
            {
                "cid": cid,
                "rating_title": rating_node.get("title") if isinstance(rating_node, Tag) else None,
                "time": stamp,
            }
        ),
    )


class DoubanOptions(HttpSourceOptions, kw_only=True):
    subjects: Targets[TargetTable]
    base_url: str = BASE_URL
    max_pages: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 5  # a few hundred comments show without login anyway


class DoubanCollector(HttpCollector):
    name = "douban"
    target_key = "subjects"
    options_type = DoubanOptions
    options: DoubanOptions
    demo = Demo(
        fixtures=("douban_comments.html",),
        routes={r"/subject/(?P<subject>\w+)/comments": demo_page},
        table=lambda at: {"base_url": at.base, "subjects": ["26934346"], "brand": at.other_brand},
        per_page=(4,),
    )

    @staticmethod
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], bool]:
        """Comments of one page, and whether the page links to a next one."""
        from collectors.http import decode_body

        source, at = context.source, context.at
        html = decode_body(body)
        soup = BeautifulSoup(html, "lxml")
        items = soup.select(".comment-item")
        if not items:
            if soup.select_one("#comments") is not None:
                return [], False  # the list exists and is empty: past the last page
            if html.strip():
                title = element_text(soup.title)
                raise LayoutChanged(
                    source,
                    f"no .comment-item and no #comments block{at} (page title {title!r}): "
                    "the layout changed or a login/verification page was served",
                )
            raise ParseError(source, f"empty body{at}")
        places = ((_place(index, item), item) for index, item in enumerate(items))
        mentions = parse_items(context, places, lambda item, _: _mention(item, context))
        has_next = soup.select_one("#paginator a.next, a.next") is not None
        return mentions, has_next

    def fetch(self, target: Target, token: Token | None) -> Fetched:
        start = int(token or 0)
        params = {"start": start, "limit": PAGE_SIZE, "status": "P", "sort": "time"}
        resp = self.get(f"{self.base_url}/subject/{target.value}/comments", params=params)
        mentions, has_next = self.read_page(resp.text, self.context(target, resp.url))
        more = bool(mentions) and (has_next or len(mentions) >= PAGE_SIZE)
        return Fetched(mentions, start + PAGE_SIZE if more else None)
