"""Each source's parser on the real saved responses, without any network."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.base import ParseContext
from collectors.sources import weibo
from collectors.sources.appstore import AppStoreCollector
from collectors.sources.bilibili import BilibiliCollector
from collectors.sources.douban import DoubanCollector
from collectors.sources.feed import FeedCollector
from collectors.sources.hackernews import HackerNewsCollector
from collectors.sources.html import HtmlCollector
from collectors.sources.jd import JdCollector
from collectors.sources.reddit import RedditCollector
from collectors.sources.weibo import WeiboCollector
from koubei.errors import LayoutChanged, ParseError, SourceBlocked


def test_jd_jsonp_and_json_give_the_same_mentions(fixtures_dir: Path) -> None:
    wrapped = JdCollector.parse((fixtures_dir / "jd_comments.jsonp").read_bytes())
    plain = JdCollector.parse((fixtures_dir / "jd_comments.json").read_bytes())
    assert wrapped == plain and len(plain) == 2
    first = plain[0]
    assert first.native_id == "10827600829"  # int64 id kept exactly
    # 2017-10-01 17:54:31 Beijing time is 09:54:31 UTC
    assert first.published_at == datetime(2017, 10, 1, 9, 54, 31, tzinfo=UTC)
    assert first.rating == 5.0 and first.author == "测***甲" and first.likes == 1 and first.replies == 0
    assert first.text.startswith("检查完了") and first.url == "https://item.jd.com/2667959.html"
    assert plain[1].likes == 31 and plain[1].replies == 3
    assert plain[1].text.endswith("\n追评：挺好的，不会有唇纹，用过的最好的一款口红了")  # the follow-up review


def test_jd_gbk_body_is_decoded(fixtures_dir: Path) -> None:
    body = (fixtures_dir / "jd_comments.jsonp").read_text(encoding="utf-8").encode("gbk")
    assert JdCollector.parse(body)[0].text.startswith("检查完了，本人是在广州使用")


def test_jd_empty_object_means_blocked_and_missing_comments_means_layout() -> None:
    with pytest.raises(SourceBlocked, match=r"answered \{\}.*cookie"):
        JdCollector.parse(b"fetchJSON_comment98({});")
    with pytest.raises(LayoutChanged, match="no 'comments' key"):
        JdCollector.parse(b'{"maxPage": 3, "productCommentSummary": {}}')
    with pytest.raises(ParseError, match="malformed JSON"):
        JdCollector.parse(b'fetchJSON_comment98({"comments": [{"id": 1,')


def test_weibo_search_cards_groups_and_truncated_posts(fixtures_dir: Path) -> None:
    mentions, next_page = WeiboCollector.read_page(
        (fixtures_dir / "weibo_search.json").read_bytes(), ParseContext("weibo")
    )
    assert next_page == 2
    assert [m.native_id for m in mentions] == ["5321343732027529", "5321300000000001"]
    first, second = mentions
    assert first.published_at == datetime(2026, 7, 16, 8, 31, 14, tzinfo=UTC)  # +0800 -> UTC
    assert first.text == "刚收到测试品牌的新耳机，降噪效果不错[赞]"  # emoji image kept as its alt text
    assert (first.likes, first.reposts, first.replies) == (31, 2, 5)
    assert "全文" not in second.text and (second.raw or {})["koubei_truncated"] is True
    assert "<" not in second.text and "#测试品牌售后#" in second.text


def test_weibo_timeline_with_retweet_and_relative_times(fixtures_dir: Path) -> None:
    now = datetime(2026, 7, 20, 4, 0, tzinfo=UTC)
    mentions = WeiboCollector.parse((fixtures_dir / "weibo_getindex_timeline.json").read_bytes(), now=now)
    assert {m.native_id for m in mentions} == {"4387933362623405", "4387930325701338"}
    # "06-27" has no year: this year's 27 June, 00:00 Beijing = 26 June 16:00 UTC
    assert all(m.published_at == datetime(2026, 6, 26, 16, 0, tzinfo=UTC) for m in mentions)
    retweet = next(m for m in mentions if m.native_id == "4387930325701338")
    assert "\n1.任何水域中，" in retweet.text  # <br /> became a line break


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("刚刚", datetime(2026, 7, 20, 4, 0, tzinfo=UTC)),
        ("5分钟前", datetime(2026, 7, 20, 3, 55, tzinfo=UTC)),
        ("15小时前", datetime(2026, 7, 19, 13, 0, tzinfo=UTC)),
        ("昨天 12:30", datetime(2026, 7, 19, 4, 30, tzinfo=UTC)),
        ("今天 08:05", datetime(2026, 7, 20, 0, 5, tzinfo=UTC)),
        ("12-31", datetime(2025, 12, 30, 16, 0, tzinfo=UTC)),  # later than today: last year
        ("2019-06-27", datetime(2019, 6, 26, 16, 0, tzinfo=UTC)),
        ("Thu Jul 16 16:31:14 +0800 2026", datetime(2026, 7, 16, 8, 31, 14, tzinfo=UTC)),
    ],
)
def test_weibo_times(shown: str, expected: datetime) -> None:
    assert weibo.parse_time(shown, datetime(2026, 7, 20, 4, 0, tzinfo=UTC)) == expected
    # Only the "ago" forms move with the fetch time; storage keeps their first value.
    assert weibo.is_relative_time(shown) == (shown in ("刚刚", "5分钟前", "15小时前"))


def test_weibo_relative_times_refetched_later_store_no_update(fixtures_dir: Path, store) -> None:
    from storage import upsert_mentions

    # Every post of the page (retweeted originals too) as Weibo shows recent ones.
    body = re.sub(
        r'"created_at":\s*"[^"]*"',
        '"created_at": "15分钟前"',
        (fixtures_dir / "weibo_search.json").read_text(encoding="utf-8"),
    )
    first = WeiboCollector.parse(body, now=datetime(2026, 7, 20, 4, 0, tzinfo=UTC))
    later = WeiboCollector.parse(body, now=datetime(2026, 7, 20, 4, 0, 40, tzinfo=UTC))  # same "15分钟前", 40 s later
    assert first and all(m.approximate_time for m in first)
    upsert_mentions(store, first)
    result = upsert_mentions(store, later)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, len(first))


def test_weibo_unknown_time_and_changed_layout_are_errors() -> None:
    with pytest.raises(ParseError, match="unknown Weibo time format"):
        weibo.parse_time("sometime", datetime.now(UTC))
    with pytest.raises(LayoutChanged, match="no data.cards"):
        WeiboCollector.parse(b'{"ok": 1, "data": {"items": []}}')
    with pytest.raises(LayoutChanged, match="none has card_type or mblog"):
        WeiboCollector.parse(b'{"ok": 1, "data": {"cards": [{"post": {}}]}}')
    ok0 = b'{"ok": 0, "msg": "\\u8fd9\\u91cc\\u8fd8\\u6ca1\\u6709\\u5185\\u5bb9"}'
    assert WeiboCollector.read_page(ok0, ParseContext("weibo")) == ([], None)
    assert weibo.parse_count("100万+") == 1_000_000


def test_bilibili_replies_and_quirks(fixtures_dir: Path) -> None:
    mentions = BilibiliCollector.parse((fixtures_dir / "bilibili_replies.json").read_bytes())
    assert [m.native_id for m in mentions][:2] == ["104192624480", "104184937184"]
    assert mentions[0].published_at == datetime.fromtimestamp(1646205507, tz=UTC)
    assert mentions[0].url == "https://www.bilibili.com/video/av2#reply104192624480"
    with pytest.raises(ParseError, match="code 0 without data"):
        BilibiliCollector.parse(b'{"code":0,"message":"0","ttl":1}')
    with pytest.raises(SourceBlocked, match="-412"):
        BilibiliCollector.parse(b'{"code":-412,"message":"request was banned","ttl":1}')


def test_douban_old_and_new_markup(fixtures_dir: Path) -> None:
    mentions = DoubanCollector.parse((fixtures_dir / "douban_comments.html").read_bytes())
    assert [m.native_id for m in mentions] == ["1268214179", "1268708875", "1267723624", "1267604275"]
    first = mentions[0]
    assert first.rating == 4.0 and first.likes == 297 and first.author == "测试影迷1"
    assert first.published_at == datetime(2017, 11, 8, 1, 44, 36, tzinfo=UTC)
    newer = """<div id="comments"><div class="comment-item" data-cid="9"><div class="comment"><h3>
      <span class="comment-vote"><span class="votes vote-count">12</span></span>
      <span class="comment-info"><a href="#">新用户</a><span class="allstar10 rating" title="很差"></span>
      <span class="comment-time" title="2024-05-01 20:00:00">2024-05-01</span>
      <span class="comment-location">上海</span></span></h3>
      <p class="comment-content"><span class="short">电池 发热 严重</span></p></div></div></div>"""
    (item,) = DoubanCollector.parse(newer)
    assert (item.text, item.rating, item.likes) == ("电池 发热 严重", 1.0, 12)


def test_douban_changed_layout_is_an_error_but_an_empty_list_is_not() -> None:
    with pytest.raises(LayoutChanged, match="no .comment-item"):
        DoubanCollector.parse("<html><body><div class='reviews'><div class='review'>好看</div></div></body></html>")
    assert DoubanCollector.parse('<html><body><div id="comments"></div></body></html>') == []


def test_appstore_list_single_entry_and_missing_updated(fixtures_dir: Path) -> None:
    mentions = AppStoreCollector.parse((fixtures_dir / "appstore_reviews.json").read_bytes())
    assert [m.native_id for m in mentions] == ["14548543799", "14545746087"]
    assert mentions[0].published_at == datetime(2026, 9, 14, 11, 24, 23, tzinfo=UTC)  # -07:00 -> UTC
    assert mentions[1].rating == 1.0 and mentions[0].text.startswith("Airdopes app so good\n")
    single = json.loads((fixtures_dir / "appstore_reviews.json").read_text(encoding="utf-8"))
    single["feed"]["entry"] = single["feed"]["entry"][0]
    assert [m.native_id for m in AppStoreCollector.parse(json.dumps(single))] == ["14548543799"]
    jp, last = AppStoreCollector.read_page(
        (fixtures_dir / "appstore_reviews_jp_2020.json").read_bytes(), ParseContext("appstore")
    )
    assert last == 8 and len(jp) == 3
    # entries without `updated` take the feed's
    assert all((m.raw or {})["koubei_time"].startswith("feed.updated") for m in jp)


def test_hackernews_reddit_and_feeds(fixtures_dir: Path) -> None:
    (hit,) = HackerNewsCollector.parse((fixtures_dir / "hn_algolia.json").read_bytes())
    assert hit.native_id == "13133437" and hit.published_at == datetime(2016, 12, 8, 19, 39, 7, tzinfo=UTC)
    assert "don't know" in hit.text and hit.url == "https://news.ycombinator.com/item?id=13133437"
    (post,) = RedditCollector.parse((fixtures_dir / "reddit_listing.json").read_bytes())
    assert post.native_id == "t3_16yxnnf" and post.published_at == datetime.fromtimestamp(1696353301, tz=UTC)
    news = FeedCollector.parse((fixtures_dir / "news_rss.xml").read_bytes())
    assert [m.native_id for m in news] == ["CBMinwFBVV95cUxObDNTMW1VT3pC", "CBMiogFBVV95cUxQZ3MtNXd1"]
    assert news[0].published_at == datetime(2026, 9, 25, 13, 53, 48, tzinfo=UTC)
    assert "<" not in news[0].text
    (release,) = FeedCollector.parse((fixtures_dir / "news_atom.xml").read_bytes())
    assert release.native_id.endswith("v22.23.3") and release.author == "example-releaser"
    with pytest.raises(LayoutChanged):
        FeedCollector.parse(b"<html><body>login</body></html>")


def test_generic_html_selectors(fixtures_dir: Path) -> None:
    selectors = {
        "item": ".comment-item",
        "text": "p",
        "id": "@data-cid",
        "time": ".comment-time@title",
        "rating": ".rating@class",
        "rating_scale": "10",
        "url": ".comment-info > a@href",
    }
    mentions = HtmlCollector.parse(
        (fixtures_dir / "douban_comments.html").read_bytes(), selectors=selectors, origin="https://example.com/c"
    )
    assert len(mentions) == 4 and mentions[0].rating == 4.0
    assert mentions[0].published_at == datetime(2017, 11, 8, 1, 44, 36, tzinfo=UTC)  # +08:00 default
    with pytest.raises(LayoutChanged, match="matched nothing"):
        HtmlCollector.parse(
            (fixtures_dir / "douban_comments.html").read_bytes(), selectors={**selectors, "item": ".post"}
        )
