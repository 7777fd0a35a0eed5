"""Safe-text helpers and chart helpers: PII masked, links http(s) only
(the exports are tested in tests/reports/test_exports.py)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from alerts.cases import group_cases
from dashboard.components import escaped, masked, safe_url
from storage.incidents import Incident

HOSTILE = '=HYPERLINK("http://evil/x","点我") 电话13812345678 邮箱 zhang.san@example.com'


def test_safe_url_allows_only_http_and_https() -> None:
    assert safe_url("https://item.jd.com/1.html") == "https://item.jd.com/1.html"
    assert safe_url("http://weibo.com/x") == "http://weibo.com/x"
    for bad in [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<b>x</b>",
        "//evil.com/x",
        "file:///etc/passwd",
        "https://",
        None,
        42,
        "  vbscript:x",
    ]:
        assert safe_url(bad) is None, bad


def test_masked_frame_and_chart_text() -> None:
    frame = pd.DataFrame({"text": ["call 13812345678", None], "url": ["ftp://x/y", "https://ok.example/"]})
    out = masked(frame, ["text"])
    assert out["text"][0] == "call 138****5678"
    assert out["text"][1] == ""  # regression: a missing text showed as "None" in the cell
    assert pd.isna(out["url"][0]) and out["url"][1] == "https://ok.example/"
    assert frame["text"][0] == "call 13812345678"  # the input is not modified
    assert escaped("<a href='http://evil'>x</a> 13812345678") == (
        "&lt;a href=&#x27;http://evil&#x27;&gt;x&lt;/a&gt; 138****5678"
    )


def test_overlapping_incident_windows_shade_once() -> None:
    from dashboard.charts import merged_windows

    at = pd.Timestamp
    windows = [
        ("negative", at("2026-11-19 00:00"), at("2026-11-19 03:00")),
        ("negative", at("2026-11-19 02:00"), at("2026-11-19 05:00")),
        ("volume", at("2026-11-19 01:00"), at("2026-11-19 02:00")),
        ("negative", at("2026-11-20 00:00"), at("2026-11-20 01:00")),
    ]
    assert merged_windows(windows) == [
        ("negative", at("2026-11-19 00:00"), at("2026-11-19 05:00")),
        ("negative", at("2026-11-20 00:00"), at("2026-11-20 01:00")),
        ("volume", at("2026-11-19 01:00"), at("2026-11-19 02:00")),
    ]


def _incident(id_: str, scope_value: str, severity: int, start: str, end: str, peak: str, observed: float) -> Incident:
    return Incident(
        id=id_,
        kind="negative",
        scope_type="brand" if id_ == "brand" else "product",
        brand="声浪",
        scope_value=scope_value,
        bucket="1h",
        window_start=datetime.fromisoformat(start),
        window_end=datetime.fromisoformat(end),
        peak_at=datetime.fromisoformat(peak),
        observed=observed,
        expected=10.0,
        score=5.0,
        severity=severity,
        keywords=("发热",),
        created_at=datetime(2026, 11, 19),
        updated_at=datetime(2026, 11, 19),
    )


def test_the_marker_lists_its_incidents_and_leads_with_the_most_severe() -> None:
    from dashboard.charts import selected_incident_ids, timeseries_figure

    series = pd.DataFrame(
        {
            "bucket": pd.to_datetime(["2026-11-19 08:00", "2026-11-19 09:00"]),
            "mentions": [10, 40],
            "scored": [10, 40],
            "avg_score": [0.7, 0.3],
            "negative_share": [0.1, 0.6],
        }
    )
    cases = group_cases(
        [
            _incident("brand", "声浪", 3, "2026-11-19 00:00", "2026-11-19 02:00", "2026-11-19 01:00", 30.0),
            _incident(
                "product", "<b>声浪P20充电宝</b>", 4, "2026-11-19 01:00", "2026-11-19 03:00", "2026-11-19 01:30", 12.0
            ),
        ],
        {"brand": {("demo.jd", "1")}, "product": {("demo.jd", "1")}},
    )
    fig = timeseries_figure(series, cases, "Asia/Shanghai")
    trace = fig.data[-1]
    assert list(trace.customdata) == [["product", "brand"]]  # tier 4 leads
    assert trace.text == ("×2",)
    assert "&lt;b&gt;声浪P20充电宝&lt;/b&gt;" in trace.hovertext[0] and "<b>声浪" not in trace.hovertext[0]
    assert pd.Timestamp(trace.x[0]) == pd.Timestamp("2026-11-19 09:30")  # the lead's peak, Beijing time
    assert selected_incident_ids({"selection": {"points": [{"customdata": ["product", "brand"]}]}}) == ["product"]
