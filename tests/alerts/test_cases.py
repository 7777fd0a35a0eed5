"""Cases: incidents one event raises together, grouped for the queue and the chart."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd

from alerts.cases import group_cases, overlapping_groups
from storage.incidents import AspectRise, Incident

T0 = datetime(2026, 11, 22, 0, 0)


def _incident(
    id_: str,
    brand: str,
    scope_type: str,
    value: str,
    start_h: float,
    end_h: float,
    severity: int,
    observed: float = 10,
    expected: float = 2,
    status: str = "open",
    kind: str = "negative",
    aspects: tuple[str, ...] = ("质量", "电池"),
) -> Incident:
    return Incident(
        id=id_,
        kind=kind,
        brand=brand,
        scope_type=scope_type,
        scope_value=value,
        bucket="1h",
        window_start=T0 + timedelta(hours=start_h),
        window_end=T0 + timedelta(hours=end_h),
        peak_at=T0 + timedelta(hours=start_h),
        severity=severity,
        observed=observed,
        expected=expected,
        score=5.0,
        status=status,
        aspects=tuple(AspectRise(a, 10, 1.0) for a in aspects),
        created_at=T0,
        updated_at=T0,
    )


def test_overlapping_windows_group_transitively_in_time_order() -> None:
    starts = pd.to_datetime(
        ["2026-11-19 10:00", "2026-11-18 01:00", "2026-11-19 12:00", "2026-11-19 20:00", "2026-11-19 11:00"]
    )
    ends = pd.to_datetime(
        ["2026-11-19 13:00", "2026-11-18 02:00", "2026-11-19 19:00", "2026-11-19 21:00", "2026-11-19 11:30"]
    )
    assert overlapping_groups(list(zip(starts, ends))) == [[1], [0, 4, 2], [3]]


def test_one_crisis_across_scopes_is_one_case_led_by_its_headline() -> None:
    rows = [
        _incident("brand", "声浪", "brand", "声浪", 2, 24, 5, observed=300, expected=30),
        _incident("product", "声浪", "product", "声浪P20充电宝", 1, 17, 5, observed=200, expected=5),
        _incident("weibo", "声浪", "source", "demo.weibo", 2, 24, 4, status="acknowledged"),
        _incident("aspect", "声浪", "aspect", "电池", 1, 15, 5, observed=80, expected=4),
        # the same hours, another brand: its own case
        _incident("other", "鲜到家", "brand", "鲜到家", 3, 6, 3),
        # the same brand two days later: a new event
        _incident("later", "声浪", "brand", "声浪", 60, 62, 2),
        # a collection outage is not about the brand
        _incident("down", "", "source", "demo.jd", 2, 24, 3, kind="source_down"),
    ]
    cases = group_cases(rows)
    by_id = {c.id: c for c in cases}
    assert set(by_id) == {"product", "other", "later", "down"}
    crisis = by_id["product"]
    # tier 5 first, then the scope that says most: product, brand, aspect; the channel (tier 4) last
    assert [m.id for m in crisis.members] == ["product", "brand", "aspect", "weibo"]
    assert crisis.severity == 5 and crisis.status == "open"
    assert crisis.window == (T0 + timedelta(hours=1), T0 + timedelta(hours=24))
    assert [m.id for m in crisis.related] == ["brand", "aspect", "weibo"]
    # queue order: tier, then newest first
    assert [c.id for c in cases] == ["product", "other", "down", "later"]


def test_the_lead_is_the_worst_then_negative_then_the_most_specific_scope_then_the_largest_factor() -> None:
    rows = [
        _incident("channel", "b", "source", "demo.weibo", 0, 5, 5, observed=100, expected=1),
        _incident("aspect", "b", "aspect", "电池", 0, 5, 5, observed=100, expected=2),
        _incident("buzz", "b", "product", "P20", 0, 5, 5, observed=100, expected=1, kind="volume"),
        _incident("brand", "b", "brand", "b", 0, 5, 5, observed=10, expected=5),
    ]
    assert [m.id for m in group_cases(rows)[0].members] == ["brand", "aspect", "channel", "buzz"]
    rows.append(_incident("worse", "b", "source", "demo.jd", 1, 2, 5, observed=9, expected=3))
    rows.append(_incident("p1", "b", "product", "P20", 0, 4, 5, observed=10, expected=5))
    rows.append(_incident("p2", "b", "product", "P20", 0, 4, 5, observed=30, expected=5))
    assert [m.id for m in group_cases(rows)[0].members][:2] == ["p2", "p1"]
    rows.append(_incident("tier", "b", "source", "demo.jd", 1, 2, 4, observed=900, expected=3))
    assert group_cases(rows)[0].members[-1].id == "tier"


def test_a_case_is_as_far_along_as_its_least_handled_incident() -> None:
    rows = [
        _incident("a", "b", "brand", "b", 0, 5, 3, status="resolved"),
        _incident("b", "b", "source", "s", 1, 4, 3, status="acknowledged"),
    ]
    assert group_cases(rows)[0].status == "acknowledged"
    rows[1] = replace(rows[1], status="resolved")
    (case,) = group_cases(rows)
    assert case.status == "resolved"
    # resolved cases go last in the queue
    fresh = _incident("c", "b", "brand", "b", 10, 11, 1)
    assert [c.id for c in group_cases([*rows, fresh])] == ["c", case.id]


def test_an_unrelated_burst_in_the_same_hours_is_a_case_of_its_own() -> None:
    """Bug: acknowledging the power-bank crisis also acknowledged an unrelated delivery-delay
    burst of the same brand whose window overlapped: cases grouped by brand and window alone."""
    crisis = [
        _incident("product", "声浪", "product", "声浪P20充电宝", 1, 17, 5),
        _incident("brand", "声浪", "brand", "声浪", 2, 24, 5, observed=300, expected=30),
        _incident("battery", "声浪", "aspect", "电池", 1, 15, 5),
        _incident("weibo", "声浪", "source", "demo.weibo", 2, 20, 4, aspects=("质量", "客服")),
    ]
    delivery = _incident("delivery", "声浪", "aspect", "物流", 8, 11, 3, aspects=("物流",))
    drivers = {
        "product": {("weibo", "1"), ("jd", "2")},
        "brand": {("weibo", "1"), ("jd", "3")},
        "battery": {("jd", "2")},
        "weibo": {("weibo", "1")},
        "delivery": {("jd", "9")},
    }
    cases = group_cases([*crisis, delivery], drivers)
    assert [sorted(m.id for m in c.members) for c in cases] == [
        ["battery", "brand", "product", "weibo"],
        ["delivery"],
    ]
    # Without driving mentions the stored facts still tell them apart (what each is about).
    assert len(group_cases([*crisis, delivery])) == 2


def test_a_brand_wide_incident_joins_the_event_it_shares_most_and_does_not_chain_two() -> None:
    p20 = _incident("p20", "b", "product", "P20", 0, 10, 5)
    x1 = _incident("x1", "b", "product", "X1", 2, 8, 4, aspects=("质量",))
    brand = _incident("brand", "b", "brand", "b", 0, 10, 5, observed=50, expected=10)
    drivers = {"p20": {("s", "1"), ("s", "2")}, "x1": {("s", "7")}, "brand": {("s", "1"), ("s", "2"), ("s", "7")}}
    cases = group_cases([x1, brand, p20], drivers)
    assert [sorted(m.id for m in c.members) for c in cases] == [["brand", "p20"], ["x1"]]
    # Another product's burst that rose on the same aspect is another event.
    assert len(group_cases([p20, x1])) == 2


def test_a_few_delivery_complaints_inside_a_crisis_do_not_make_it_about_delivery() -> None:
    """Bug (seen in the demo): the crisis's brand incident listed 物流 third among its risen
    aspects (2 mentions beside 430 on 质量), so a delivery burst in the same hours joined it."""
    brand = _incident("brand", "声浪", "brand", "声浪", 0, 20, 5, observed=300, expected=30)
    brand = replace(
        brand, aspects=(AspectRise("质量", 430, 20.0), AspectRise("客服", 50, 10.0), AspectRise("物流", 2, 1.0))
    )
    delivery = _incident("delivery", "声浪", "aspect", "物流", 8, 11, 3, aspects=("物流",))
    assert len(group_cases([brand, delivery])) == 2
    # an aspect that leads the rise beside another still names the event
    shared = replace(brand, aspects=(AspectRise("质量", 430, 20.0), AspectRise("物流", 200, 10.0)))
    assert len(group_cases([shared, delivery])) == 1
