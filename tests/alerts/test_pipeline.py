"""detect_incidents over the demo database: the seeded crisis, facts, reruns, source health."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from alerts.detect import detect_incidents
from storage import Store
from storage import incidents as inc
from storage.health import record_failure, record_success
from tests.alerts.conftest import DEMO_NOW, settings_with

NO_ROUTES: dict = {}


def test_seeded_crisis_is_flagged_with_facts(store_factory: Callable[[], Store]) -> None:
    settings = settings_with(NO_ROUTES)
    summary = detect_incidents(store_factory, settings, now=DEMO_NOW)
    assert summary.opened > 0
    with store_factory() as store:
        rows = inc.list_incidents(store)
        brand = [r for r in rows if r.kind == "negative" and r.scope_type == "brand" and r.brand == "声浪"]
        product = [
            r for r in rows if r.kind == "negative" and r.scope_type == "product" and r.scope_value == "声浪P20充电宝"
        ]
        assert len(brand) == 1 and len(product) == 1, [(r.kind, r.scope_type, r.scope_value) for r in rows]
        crisis = brand[0]
        # The demo's crisis starts 40 hours before the end of its data.
        start = DEMO_NOW - timedelta(hours=40)
        assert start - timedelta(hours=1) <= crisis.window_start <= start + timedelta(hours=3)
        assert crisis.severity >= 4 and crisis.observed > 3 * crisis.expected
        assert (crisis.factor or 0) > 3 and crisis.score > 5
        assert {"发热", "电池"} & set(crisis.keywords) or {"发烫", "充电"} & set(crisis.keywords)
        # The keywords say what rose, not whose it is: the scope's own names are in the headline.
        assert not {"声浪", "P20"} & set(product[0].keywords), product[0].keywords
        assert sum(s.count for s in crisis.sources) > 100
        mentions = inc.incident_mentions(store, crisis.id)
        assert 1 <= len(mentions) <= 20
        reach = [m.reach for m in mentions]
        assert reach == sorted(reach, reverse=True)
        assert all(m.label == "neg" for m in mentions)
        # The positive campaign of 鲜到家 is a volume spike, never a negative one.
        assert any(r.kind == "volume" and r.brand == "鲜到家" for r in rows)
        campaign_day = DEMO_NOW - timedelta(days=10, hours=14)
        assert not any(
            r.kind == "negative" and r.brand == "鲜到家" and abs(r.window_start - campaign_day) < timedelta(hours=12)
            for r in rows
        )


def test_rerun_duplicates_nothing(store_factory: Callable[[], Store]) -> None:
    settings = settings_with(NO_ROUTES)
    first = detect_incidents(store_factory, settings, now=DEMO_NOW)
    with store_factory() as store:
        before = inc.list_incidents(store)
    second = detect_incidents(store_factory, settings, now=DEMO_NOW)
    with store_factory() as store:
        after = inc.list_incidents(store)
    assert second.opened == 0 and first.opened == len(before)
    assert sorted(r.id for r in before) == sorted(r.id for r in after)


def test_growing_burst_extends_one_incident(store_factory: Callable[[], Store]) -> None:
    """Detect while the crisis is under way, then later: still one incident, extended, not two."""
    settings = settings_with(NO_ROUTES)
    early = DEMO_NOW - timedelta(hours=36)
    detect_incidents(store_factory, settings, now=early)
    with store_factory() as store:
        first = [
            r
            for r in inc.list_incidents(store)
            if r.scope_type == "brand" and r.kind == "negative" and r.brand == "声浪"
        ]
    detect_incidents(store_factory, settings, now=DEMO_NOW)
    with store_factory() as store:
        later = [
            r
            for r in inc.list_incidents(store)
            if r.scope_type == "brand" and r.kind == "negative" and r.brand == "声浪"
        ]
    assert len(first) == 1 and len(later) == 1
    assert later[0].id == first[0].id
    assert later[0].window_end > first[0].window_end


def test_failing_source_raises_source_down_and_marks_detection_unreliable(store_factory: Callable[[], Store]) -> None:
    settings = settings_with(NO_ROUTES)
    with store_factory() as store:
        record_success(store, "demo.weibo", 100, DEMO_NOW - timedelta(hours=30))
        record_failure(
            store, "demo.weibo", "SourceUnavailable: HTTP 503 after 5 retries", 0, DEMO_NOW - timedelta(minutes=5)
        )
        record_success(store, "demo.jd", 100, DEMO_NOW - timedelta(minutes=5))
    summary = detect_incidents(store_factory, settings, now=DEMO_NOW)
    assert summary.source_down == ["demo.weibo"]
    with store_factory() as store:
        rows = inc.list_incidents(store)
    down = [r for r in rows if r.kind == "source_down"]
    assert len(down) == 1 and down[0].scope_value == "demo.weibo" and not down[0].reliable
    assert "503" in str(down[0].note)
    brand = [r for r in rows if r.scope_type == "brand" and r.kind == "negative" and r.brand == "声浪"]
    assert brand and not brand[0].reliable and "demo.weibo" in str(brand[0].note)
    # detection over the healthy source stays reliable
    jd = [r for r in rows if r.scope_type == "source" and r.scope_value == "demo.jd"]
    assert jd and all(r.reliable for r in jd)


def test_silent_source_is_down_not_calm(store_factory: Callable[[], Store]) -> None:
    """Zero items for hours where there used to be many: a 'source down', even if runs 'succeed'."""
    settings = settings_with({"silence_hours": 6, "silence_min_expected": 5})
    with store_factory() as store:
        record_success(store, "demo.weibo", 0, DEMO_NOW)
    later = DEMO_NOW + timedelta(hours=8)  # no mention stored after DEMO_NOW
    summary = detect_incidents(store_factory, settings, now=later)
    assert "demo.weibo" in summary.source_down


def test_a_stop_ends_detection_before_the_next_rule_and_scope(store_factory: Callable[[], Store]) -> None:
    """Bug: a SIGTERM that reached `koubei watch` as detection began waited for every rule over
    every scope (about 6 s on the demo's month). Detection now ends before the next rule and
    scope, and the next pass, which reads everything again, finds what it left."""
    settings = settings_with(NO_ROUTES)
    stop = threading.Event()
    stop.set()
    assert detect_incidents(store_factory, settings, now=DEMO_NOW, stop=stop).opened == 0
    with store_factory() as store:
        assert inc.list_incidents(store) == []
    assert detect_incidents(store_factory, settings, now=DEMO_NOW).opened > 0
