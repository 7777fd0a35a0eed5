"""dashboard/sources.py: advice by error kind and message, next scheduled run, which sources are listed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from collectors.options import parse_source
from dashboard.sources import advice_key, heartbeats, plain, runs_frame, source_rows
from storage import Store
from storage.health import recent_runs, record_heartbeat, record_run, source_health

NOW = datetime(2026, 11, 20, 4, 0)


@pytest.mark.parametrize(
    ("kind", "message", "key"),
    [
        ("blocked", "weibo: HTTP 403 from https://m.weibo.cn/...: the site refused us", "sources.advice_blocked"),
        ("blocked", "jd: robots.txt disallows https://jd.example/x for our user agent", "sources.advice_robots"),
        ("unavailable", "reddit: HTTP 429 from https://reddit.example; gave up after 4 attempts", "sources.advice_rate_limited"),
        ("unavailable", "x: HTTP 503 from u with Retry-After 900s, longer than retry_after_max 60s", "sources.advice_rate_limited"),
        ("unavailable", "douban: timed out after 20s reading https://douban.example", "sources.advice_unavailable"),
        ("layout", "forum: page 1 held 40 KB but no items", "sources.advice_layout"),
        ("parse", "jd: not JSON", "sources.advice_parse"),
        ("config", "x: bad", "sources.advice_config"),
        ("storage", "x: disk full", "sources.advice_storage"),
        ("bug", "KeyError: 'data'", "sources.advice_bug"),
        (None, None, "sources.advice_bug"),
    ],
)  # fmt: skip
def test_advice_follows_the_error_kind_and_what_the_message_says(
    kind: str | None, message: str | None, key: str
) -> None:
    assert advice_key(kind, message) == key


def test_rows_health_and_the_next_run(store: Store) -> None:
    weibo = parse_source("weibo", {"keywords": ["声浪"], "interval": "15m"})
    jd = parse_source("jd", {"skus": ["1"], "enabled": False})
    fresh = parse_source("bilibili", {"oids": ["2"]})
    record_run(store, "weibo", NOW - timedelta(minutes=5), NOW - timedelta(minutes=4), pages=1, inserted=3,
               updated=0, unchanged=1)  # fmt: skip
    record_run(store, "weibo", NOW - timedelta(hours=2), NOW - timedelta(hours=2), pages=0, inserted=0,
               updated=0, unchanged=0, error="HTTP 403", error_kind="blocked")  # fmt: skip
    record_run(store, "import.csv", NOW, NOW, pages=1, inserted=2, updated=0, unchanged=0)
    record_heartbeat(store, "watch", NOW)
    found = source_health(store)
    rows = {row.name: row for row in source_rows([weibo, jd, fresh], found)}
    assert list(rows) == ["weibo", "jd", "bilibili", "import.csv"], "configured first, then known from runs"
    # the last run recorded (the older, failed one was written last) decides the status
    failed = rows["weibo"].health
    assert rows["weibo"].failing and failed is not None and failed.consecutive_failures == 1
    assert rows["weibo"].next_run(NOW) == NOW, "an interval after a run two hours ago: due now"
    assert rows["jd"].next_run(NOW) is None, "disabled: only `koubei collect jd` runs it"
    assert rows["bilibili"].health is None and rows["bilibili"].next_run(NOW) == NOW
    assert rows["import.csv"].kind is None and rows["import.csv"].next_run(NOW) is None
    assert heartbeats(found) == {"koubei-watch": NOW}
    frame = runs_frame(recent_runs(store))
    assert sorted(frame["items"]) == [0, 2, 4] and set(frame["status"]) == {"ok", "error"}


def test_an_interval_after_the_last_run() -> None:
    weibo = parse_source("weibo", {"keywords": ["声浪"], "interval": "15m"})
    from storage.health import SourceHealth

    ran = SourceHealth("weibo", NOW, NOW, None, None, 5, "ok", None, 0)
    (row,) = source_rows([weibo], [ran])
    assert row.next_run(NOW + timedelta(minutes=5)) == NOW + timedelta(minutes=15)


def test_a_name_shown_in_markdown_is_plain_text() -> None:
    assert plain("![x](http://evil.example/p.png) :red[hi] **b**") == (
        r"\!\[x\]\(http\://evil\.example/p\.png\) \:red\[hi\] \*\*b\*\*"
    )
