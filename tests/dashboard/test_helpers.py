"""Exports, safe-text helpers and chart helpers: PII masked, formulas defused,
links http(s) only, Chinese readable in Excel."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pandas as pd

from dashboard import exports
from dashboard.components import chart_text, masked, safe_url
from dashboard.i18n import t

HOSTILE = '=HYPERLINK("http://evil/x","点我") 电话13812345678 邮箱 zhang.san@example.com'


def _negative_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "published_at": [datetime(2026, 11, 20, 4, 0), datetime(2026, 11, 20, 5, 0)],
            "source": ["demo.weibo", "+cmd|' /C calc'!A0"],
            "brand": ["声浪", "声浪"],
            "product": ["声浪P20充电宝", "声浪P20充电宝"],
            "text": [HOSTILE, "充电宝发热严重，差评"],
            "url": ["javascript:alert(1)", "https://weibo.example/1"],
            "score": [0.01, 0.02],
            "rating": [None, 1.0],
            "likes": [3, 0],
            "reposts": [None, 1],
            "replies": [0, 0],
        }
    )


def test_negative_sheet_masks_pii_defuses_formulas_and_drops_unsafe_links() -> None:
    table = exports.negative_table(_negative_frame(), "Asia/Shanghai", lang="zh")
    text = table[t("col.text", "zh")].tolist()
    assert text[0].startswith("'=HYPERLINK")
    assert "13812345678" not in text[0] and "138****5678" in text[0]
    assert "zhang.san@" not in text[0] and "z***@example.com" in text[0]
    assert table[t("col.source", "zh")].tolist()[1].startswith("'+cmd")
    links = table[t("col.link", "zh")].tolist()
    assert pd.isna(links[0]) and links[1] == "https://weibo.example/1"
    # Stored UTC 04:00 is 12:00 in Beijing.
    assert table[t("col.time", "zh")].iloc[0] == pd.Timestamp("2026-11-20 12:00")


def test_csv_has_bom_and_chinese_headers() -> None:
    data = exports.to_csv(exports.negative_table(_negative_frame(), "Asia/Shanghai", lang="zh"))
    assert data.startswith(b"\xef\xbb\xbf")
    decoded = data.decode("utf-8-sig")
    assert decoded.splitlines()[0].startswith("时间,来源,品牌,产品,内容")
    assert "138****5678" in decoded and "13812345678" not in decoded


def test_xlsx_cells_are_text_not_formulas() -> None:
    sheets = {
        "负面提及": exports.negative_table(_negative_frame(), "Asia/Shanghai", lang="zh"),
        "Summary with a very long sheet name that Excel refuses": pd.DataFrame({"a": [1]}),
    }
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(sheets)))
    assert book.sheetnames == ["负面提及", "Summary with a very long sheet "]
    sheet = book["负面提及"]
    header = [cell.value for cell in sheet[1]]
    text_cell = sheet.cell(row=2, column=header.index("内容") + 1)
    assert text_cell.data_type == "s"  # a string, not a formula ("f")
    assert text_cell.value.startswith("'=HYPERLINK")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_english_export_headers_and_codes() -> None:
    incidents = pd.DataFrame(
        {
            "id": ["a"],
            "kind": ["negative"],
            "brand": ["声浪"],
            "scope_value": ["声浪P20充电宝"],
            "window_start": [datetime(2026, 11, 19)],
            "window_end": [datetime(2026, 11, 20)],
            "peak_at": [datetime(2026, 11, 19, 12)],
            "observed": [0.6],
            "expected": [0.15],
            "severity": [4],
            "status": ["open"],
            "keywords": ['["发热", "电池"]'],
        }
    )
    table = exports.incidents_table(incidents, "Asia/Shanghai", lang="en")
    assert list(table.columns[:3]) == ["id", "Kind", "Brand"]
    assert table["Kind"].iloc[0] == "Negative spike"
    assert table["Status"].iloc[0] == "Open"
    assert table["Keywords"].iloc[0] == "发热, 电池"


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
