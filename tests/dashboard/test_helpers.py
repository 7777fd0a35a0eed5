"""Safe-text helpers and chart helpers: PII masked, links http(s) only
(the exports are tested in tests/reports/test_exports.py)."""

from __future__ import annotations

import pandas as pd

from dashboard.components import chart_text, masked, safe_url

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
    assert out["text"][0] == "call 138****5678" and pd.isna(out["text"][1])
    assert pd.isna(out["url"][0]) and out["url"][1] == "https://ok.example/"
    assert frame["text"][0] == "call 13812345678"  # the input is not modified
    assert chart_text("<a href='http://evil'>x</a> 13812345678") == (
        "&lt;a href=&#x27;http://evil&#x27;&gt;x&lt;/a&gt; 138****5678"
    )


def test_overlapping_incident_windows_shade_once() -> None:
    from dashboard.charts import merged_windows

    kinds = pd.Series(["negative", "negative", "volume", "negative"])
    starts = pd.Series(pd.to_datetime(["2026-11-19 00:00", "2026-11-19 02:00", "2026-11-19 01:00", "2026-11-20 00:00"]))
    ends = pd.Series(pd.to_datetime(["2026-11-19 03:00", "2026-11-19 05:00", "2026-11-19 02:00", "2026-11-20 01:00"]))
    assert merged_windows(kinds, starts, ends) == [
        ("negative", pd.Timestamp("2026-11-19 00:00"), pd.Timestamp("2026-11-19 05:00")),
        ("negative", pd.Timestamp("2026-11-20 00:00"), pd.Timestamp("2026-11-20 01:00")),
        ("volume", pd.Timestamp("2026-11-19 01:00"), pd.Timestamp("2026-11-19 02:00")),
    ]


def test_the_marker_lists_its_incidents_and_leads_with_the_most_severe() -> None:
    from dashboard.charts import selected_incident_ids, timeseries_figure

    series = pd.DataFrame(
        {
            "bucket": pd.to_datetime(["2026-11-19 08:00", "2026-11-19 09:00"]),
            "mentions": [10, 40],
            "avg_score": [0.7, 0.3],
            "negative_share": [0.1, 0.6],
        }
    )
    base = {
        "observed": 30.0,
        "expected": 10.0,
        "status": "open",
        "keywords": '["发热"]',
        "kind": "negative",
        "scope_type": "brand",
    }
    markers = pd.DataFrame(
        [
            {
                **base,
                "id": "brand",
                "scope_value": "声浪",
                "severity": 3,
                "window_start": "2026-11-19 00:00",
                "window_end": "2026-11-19 02:00",
                "peak_at": "2026-11-19 01:00",
            },
            {
                **base,
                "id": "product",
                "scope_value": "<b>声浪P20充电宝</b>",
                "severity": 4,
                "observed": 12.0,
                "window_start": "2026-11-19 01:00",
                "window_end": "2026-11-19 03:00",
                "peak_at": "2026-11-19 01:30",
            },
        ]
    )
    for column in ("window_start", "window_end", "peak_at"):
        markers[column] = pd.to_datetime(markers[column])
    fig = timeseries_figure(series, markers, "Asia/Shanghai")
    trace = fig.data[-1]
    assert list(trace.customdata) == [["product", "brand"]]  # tier 4 leads
    assert trace.text == ("×2",)
    assert "&lt;b&gt;声浪P20充电宝&lt;/b&gt;" in trace.hovertext[0] and "<b>" not in trace.hovertext[0]
    assert pd.Timestamp(trace.x[0]) == pd.Timestamp("2026-11-19 09:30")  # the lead's peak, Beijing time
    assert selected_incident_ids({"selection": {"points": [{"customdata": ["product", "brand"]}]}}) == ["product"]
