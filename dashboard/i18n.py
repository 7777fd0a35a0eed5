"""A small dict-based translation helper: Chinese by default, English on request.

Every page uses `t(key)`. A page that needs its own strings registers them once
with `add_strings({...})`; keys are plain names, values {"zh": ..., "en": ...}.
The language lives in st.session_state["lang"] (the sidebar switch, bound to
the URL as ?lang=English); outside Streamlit the default applies.

Registrations are scoped to the file that makes them: if a page gives a shared
key its own wording (the triage page's "col_label" is 模型标签), `t()` called
from that page's file uses it, while every other page keeps the shared wording.
Without this, visiting one page would silently rename columns on the others.
New keys are also added to the shared table.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANG = "zh"
LANG_KEY = "lang"

_STRINGS: dict[str, dict[str, str]] = {
    # shell and navigation
    "app_title": {"zh": "口碑监测", "en": "koubei monitor"},
    "nav_monitor": {"zh": "监控", "en": "Monitor"},
    "nav_manage": {"zh": "处理", "en": "Manage"},
    "page_overview": {"zh": "总览", "en": "Overview"},
    "page_triage": {"zh": "分诊", "en": "Triage"},
    "page_incidents": {"zh": "事件", "en": "Incidents"},
    "page_settings": {"zh": "规则设置", "en": "Rules"},
    "language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "no_database": {
        "zh": "还没有数据库：先运行 `koubei run`（或 `make run`）采集数据。",
        "en": "No database yet: run `koubei run` (or `make run`) to collect data first.",
    },
    "cannot_read": {"zh": "无法读取数据库：", "en": "Cannot read the database:"},
    "database_busy": {
        "zh": "数据库正被写入，稍后自动重试。",
        "en": "The database is busy being written; retrying shortly.",
    },
    "no_data": {"zh": "数据库里还没有任何提及。", "en": "No mentions stored yet."},
    # filters
    "filters": {"zh": "筛选", "en": "Filters"},
    "brand": {"zh": "品牌", "en": "Brand"},
    "product": {"zh": "产品", "en": "Product"},
    "source": {"zh": "来源", "en": "Source"},
    "date_range": {"zh": "日期范围", "en": "Date range"},
    "all": {"zh": "全部", "en": "All"},
    "bucket": {"zh": "时间粒度", "en": "Time bucket"},
    "bucket_auto": {"zh": "自动", "en": "Auto"},
    "bucket_1h": {"zh": "小时", "en": "Hour"},
    "bucket_6h": {"zh": "6 小时", "en": "6 hours"},
    "bucket_1d": {"zh": "天", "en": "Day"},
    # overview
    "overview_title": {"zh": "口碑总览", "en": "Word-of-mouth overview"},
    "period_empty": {
        "zh": "上一周期（{prev}）没有数据，不显示变化。",
        "en": "No data in the previous period ({prev}): no deltas shown.",
    },
    "period_note": {"zh": "与上一周期对比：{prev}", "en": "Compared with the previous period: {prev}"},
    "kpi_mentions": {"zh": "提及量", "en": "Mentions"},
    "kpi_avg_sentiment": {"zh": "平均情感", "en": "Average sentiment"},
    "kpi_negative_share": {"zh": "负面占比", "en": "Negative share"},
    "kpi_open_incidents": {"zh": "未关闭事件", "en": "Open incidents"},
    "kpi_mentions_help": {
        "zh": "所选范围内的提及数（不含识别为模板或刷评的评论），对比上一同长周期。",
        "en": "Mentions in range (template and copy-paste reviews left out) vs the previous period of the same length.",
    },
    "kpi_avg_help": {
        "zh": "情感得分 0（负面）到 1（正面）的平均值。",
        "en": "Mean sentiment score, 0 (negative) to 1 (positive).",
    },
    "kpi_neg_help": {"zh": "已评分提及中负面的比例。", "en": "Share of scored mentions labelled negative."},
    "kpi_inc_help": {
        "zh": "当前未解决的事件数；变化值为本周期新发现的事件数减去上一周期的。",
        "en": "Unresolved incidents now; the delta is incidents detected this period minus the previous one.",
    },
    "chart_title": {"zh": "声量与情感趋势", "en": "Volume and sentiment over time"},
    "series_mentions": {"zh": "提及量", "en": "Mentions"},
    "series_avg": {"zh": "平均情感", "en": "Avg sentiment"},
    "series_neg_share": {"zh": "负面占比", "en": "Negative share"},
    "series_incidents": {"zh": "事件", "en": "Incidents"},
    "axis_volume": {"zh": "提及量", "en": "Mentions"},
    "axis_share": {"zh": "情感 / 占比", "en": "Sentiment / share"},
    "chart_hint": {"zh": "点击红色标记查看事件详情。", "en": "Click a red marker to see the incident."},
    "selected_incident": {"zh": "所选事件", "en": "Selected incident"},
    "incident_drivers": {"zh": "引发事件的提及", "en": "Mentions that drove it"},
    "open_incidents": {"zh": "未关闭事件", "en": "Open incidents"},
    "col_related": {"zh": "相关事件", "en": "Related"},
    "related_help": {
        "zh": "同一事件在品牌、产品、方面、渠道上另外触发的告警数（在“事件”页查看）。",
        "en": "How many more incidents the same event raised for the brand, products, aspects and channels (see the Incidents page).",
    },
    "no_open_incidents": {"zh": "当前没有未关闭的事件。", "en": "No open incidents."},
    "latest_negative": {"zh": "最新负面提及", "en": "Latest negative mentions"},
    "no_negative": {"zh": "所选范围内没有负面提及。", "en": "No negative mentions in range."},
    "export": {"zh": "导出口碑摘要", "en": "Export review summary"},
    "export_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "export_xlsx": {"zh": "下载 Excel", "en": "Download Excel"},
    "updated_at": {
        "zh": "数据更新于 {at}（每 {every} 秒自动刷新）",
        "en": "Data as of {at} (refreshes every {every}s)",
    },
    # columns
    "col_time": {"zh": "时间", "en": "Time"},
    "col_text": {"zh": "内容", "en": "Text"},
    "col_link": {"zh": "链接", "en": "Link"},
    "col_score": {"zh": "情感得分", "en": "Score"},
    "col_label": {"zh": "情感", "en": "Label"},
    "col_rating": {"zh": "评分", "en": "Rating"},
    "col_likes": {"zh": "点赞", "en": "Likes"},
    "col_reposts": {"zh": "转发", "en": "Reposts"},
    "col_replies": {"zh": "回复", "en": "Replies"},
    "col_rank": {"zh": "排名", "en": "Rank"},
    "col_kind": {"zh": "类型", "en": "Kind"},
    "col_scope": {"zh": "范围", "en": "Scope"},
    "col_window_start": {"zh": "开始", "en": "Start"},
    "col_window_end": {"zh": "结束", "en": "End"},
    "col_peak": {"zh": "峰值时间", "en": "Peak"},
    "col_observed": {"zh": "观测值", "en": "Observed"},
    "col_expected": {"zh": "预期值", "en": "Expected"},
    "col_severity": {"zh": "级别", "en": "Tier"},
    "col_status": {"zh": "状态", "en": "Status"},
    "col_keywords": {"zh": "关键词", "en": "Keywords"},
    "col_mentions": {"zh": "提及数", "en": "Mentions"},
    "col_scored": {"zh": "已评分", "en": "Scored"},
    "col_positive": {"zh": "正面", "en": "Positive"},
    "col_neutral": {"zh": "中性", "en": "Neutral"},
    "col_negative": {"zh": "负面", "en": "Negative"},
    "col_avg_rating": {"zh": "平均评分", "en": "Avg rating"},
    "col_reach": {"zh": "互动量", "en": "Reach"},
    "col_first": {"zh": "最早", "en": "First"},
    "col_last": {"zh": "最新", "en": "Last"},
    "open_link": {"zh": "打开", "en": "open"},
    "sheet_summary": {"zh": "摘要", "en": "Summary"},
    "sheet_negative": {"zh": "负面提及", "en": "Negative mentions"},
    "sheet_incidents": {"zh": "事件", "en": "Incidents"},
    # values
    "kind_volume": {"zh": "声量激增", "en": "Volume spike"},
    "kind_negative": {"zh": "负面激增", "en": "Negative spike"},
    "kind_source_down": {"zh": "来源中断", "en": "Source down"},
    "status_open": {"zh": "待处理", "en": "Open"},
    "status_acknowledged": {"zh": "已确认", "en": "Acknowledged"},
    "status_resolved": {"zh": "已解决", "en": "Resolved"},
    "label_pos": {"zh": "正面", "en": "Positive"},
    "label_neu": {"zh": "中性", "en": "Neutral"},
    "label_neg": {"zh": "负面", "en": "Negative"},
}


_OVERRIDES: dict[str, dict[str, dict[str, str]]] = {}


def add_strings(strings: Mapping[str, Mapping[str, str]]) -> None:
    """Register a page's own strings (for t() calls made from the same file)."""
    scope = _OVERRIDES.setdefault(_caller_file(), {})
    for key, values in strings.items():
        scope[key] = dict(values)
        _STRINGS.setdefault(key, dict(values))


def _caller_file(depth: int = 2) -> str:
    """The file of the code that called our caller (page scripts get __file__ from Streamlit)."""
    return str(sys._getframe(depth).f_globals.get("__file__", ""))


def current_lang() -> str:
    try:
        import streamlit as st

        lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    except Exception:  # noqa: BLE001 - outside a Streamlit run (plain scripts, unit tests)
        lang = DEFAULT_LANG
    return lang if lang in LANGUAGES else DEFAULT_LANG


def _lookup(key: str, caller: str) -> dict[str, str] | None:
    scoped = _OVERRIDES.get(caller)
    if scoped is not None and key in scoped:
        return scoped[key]
    return _STRINGS.get(key)


def _text(key: str, lang: str | None, caller: str, fmt: Mapping[str, object]) -> str:
    values = _lookup(key, caller)
    if values is None:
        return key
    text = values.get(lang or current_lang()) or values.get(DEFAULT_LANG) or key
    return text.format(**fmt) if fmt else text


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """The text for `key` in the current language; falls back to Chinese, then the key."""
    return _text(key, lang, _caller_file(), fmt)


def t_value(prefix: str, value: object, lang: str | None = None) -> str:
    """Translate a stored code such as an incident kind (`kind_volume`); unknown codes as is."""
    key = f"{prefix}_{value}"
    caller = _caller_file()
    return _text(key, lang, caller, {}) if _lookup(key, caller) is not None else str(value)
