"""Triage page: negative mentions with tier, motive, aspects, the deciding rule,
a suggested reply, and a label-correction editor that stores corrections.

Untrusted text (mention text, and anything derived from it) appears only in
st.data_editor / st.dataframe cells, masked with koubei.privacy.mask_pii. All
queries go through storage/sentiment.py; each unit of work opens its own
short-lived Store (dashboard.data.reading / writing).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, filters
from dashboard.components import local_times, masked
from dashboard.i18n import add_strings, t
from storage import sentiment as db

EDITOR_KEY = "triage_editor"
QUEUE_LIMIT = 500  # rows in the editor; the tier counts above it cover everything
LABEL_CHOICES = ["", "pos", "neu", "neg"]

add_strings(
    {
        "triage_title": {"zh": "负面分诊", "en": "Negative mention triage"},
        "triage_intro": {
            "zh": "按紧急程度排列的负面提及：层级、投诉动机、涉及方面、判定依据和建议回复。在“纠正标签”列修改情感标签后点击保存，训练时会使用这些纠正。",
            "en": "Negative mentions by urgency: tier, complaint motive, aspects, the deciding rule and a suggested reply. Correct a label in the last column and save; `koubei train` uses the corrections.",
        },
        "min_tier": {"zh": "最低层级", "en": "Minimum tier"},
        "tier_n": {"zh": "第 {n} 级", "en": "Tier {n}"},
        "tier_label_5": {"zh": "红色警戒", "en": "Red alert"},
        "tier_label_4": {"zh": "关键", "en": "Critical"},
        "tier_label_3": {"zh": "紧急", "en": "Urgent"},
        "tier_label_2": {"zh": "普通", "en": "Ordinary"},
        "tier_label_1": {"zh": "建议/表扬", "en": "Suggestion/praise"},
        "col_urgency": {"zh": "层级", "en": "Tier"},
        "col_motive": {"zh": "动机", "en": "Motive"},
        "col_aspects": {"zh": "方面", "en": "Aspects"},
        "col_text": {"zh": "内容", "en": "Text"},
        "col_reason": {"zh": "判定依据", "en": "Deciding rule"},
        "col_reply": {"zh": "建议回复", "en": "Suggested reply"},
        "col_score": {"zh": "情感得分", "en": "Score"},
        "col_label": {"zh": "模型标签", "en": "Model label"},
        "col_corrected": {"zh": "纠正标签", "en": "Corrected label"},
        "col_published": {"zh": "发布时间", "en": "Published"},
        "col_reach": {"zh": "传播量", "en": "Reach"},
        "col_brand": {"zh": "品牌", "en": "Brand"},
        "col_source": {"zh": "来源", "en": "Source"},
        "col_link": {"zh": "链接", "en": "Link"},
        "col_conflict": {"zh": "评分矛盾", "en": "Rating conflict"},
        "aspect_title": {"zh": "各方面情感（不含模板评论）", "en": "Sentiment by aspect (template reviews left out)"},
        "save_labels": {"zh": "保存标签纠正", "en": "Save label corrections"},
        "saved_labels": {"zh": "已保存 {n} 条纠正。", "en": "Saved {n} correction(s)."},
        "no_changes": {"zh": "没有需要保存的修改。", "en": "Nothing to save."},
        "showing_top": {
            "zh": "显示最紧急的 {n} 条（共 {total} 条）。",
            "en": "Showing the {n} most urgent of {total}.",
        },
        "no_triage": {"zh": "所选范围内没有需要分诊的提及。", "en": "No mentions to triage in range."},
    }
)


@st.cache_data(ttl=data.CACHE_TTL, max_entries=16, show_spinner=False)
def load_queue(
    db_file: str, brands: tuple[str, ...], sources: tuple[str, ...], start: Any, end: Any, min_tier: int
) -> pd.DataFrame:
    with data.reading() as store:
        return db.triage_queue(
            store, brands=brands, sources=sources, start=start, end=end, min_urgency=min_tier, limit=QUEUE_LIMIT
        )


@st.cache_data(ttl=data.CACHE_TTL, max_entries=16, show_spinner=False)
def load_counts(
    db_file: str, brands: tuple[str, ...], sources: tuple[str, ...], start: Any, end: Any
) -> dict[int, int]:
    with data.reading() as store:
        return db.triage_counts(store, brands=brands, sources=sources, start=start, end=end)


@st.cache_data(ttl=data.CACHE_TTL, max_entries=16, show_spinner=False)
def load_aspects(db_file: str, brands: tuple[str, ...], start: Any, end: Any) -> pd.DataFrame:
    with data.reading() as store:
        return db.aspect_summary(store, brands=brands, start=start, end=end)


def save_corrections(queue: pd.DataFrame) -> None:
    """on_click of the save button: store the labels edited in the editor."""
    state = st.session_state.get(EDITOR_KEY) or {}
    changes: list[tuple[str, str, str]] = []
    for row, edits in (state.get("edited_rows") or {}).items():
        label = edits.get("corrected_label")
        index = int(row)
        if label in ("pos", "neu", "neg") and index < len(queue):
            item = queue.iloc[index]
            if label != item["corrected_label"]:
                changes.append((str(item["source"]), str(item["native_id"]), label))
    if not changes:
        st.session_state["triage_notice"] = t("no_changes")
        return
    with data.writing() as store:
        db.save_labels(store, changes)
    load_queue.clear()
    st.session_state["triage_notice"] = t("saved_labels", n=len(changes))


def table(queue: pd.DataFrame) -> pd.DataFrame:
    shown = masked(queue, ["text", "reason", "reply", "aspects", "product", "brand"])
    shown = local_times(shown, ["published_at"])
    shown["corrected_label"] = shown["corrected_label"].fillna("")
    columns = [
        "urgency",
        "motive",
        "aspects",
        "text",
        "reason",
        "reply",
        "score",
        "label",
        "corrected_label",
        "published_at",
        "reach",
        "brand",
        "source",
        "url",
        "rating_conflict",
    ]
    return shown[columns]


def main() -> None:
    st.title(t("triage_title"))
    st.caption(t("triage_intro"))
    chosen = filters.current()
    if chosen is None:
        return
    min_tier = st.select_slider(t("min_tier"), options=[1, 2, 3, 4, 5], value=2, key="triage_min_tier")
    queue = load_queue(str(data.db_path()), chosen.brands, chosen.sources, chosen.start, chosen.end, min_tier)

    counts = load_counts(str(data.db_path()), chosen.brands, chosen.sources, chosen.start, chosen.end)
    for column, tier in zip(st.columns(5), (5, 4, 3, 2, 1), strict=True):
        column.metric(f"{t('tier_n', n=tier)} · {t(f'tier_label_{tier}')}", counts.get(tier, 0))
    shown_total = sum(n for tier, n in counts.items() if tier >= min_tier)
    if shown_total > len(queue):
        st.caption(t("showing_top", n=len(queue), total=shown_total))

    if notice := st.session_state.pop("triage_notice", None):
        st.success(notice)  # our own message (a count), never mention text

    if queue.empty:
        st.info(t("no_triage"))
    else:
        st.data_editor(
            table(queue),
            key=EDITOR_KEY,
            hide_index=True,
            width="stretch",
            disabled=[c for c in table(queue).columns if c != "corrected_label"],
            column_config={
                "urgency": st.column_config.NumberColumn(t("col_urgency"), format="%d"),
                "motive": st.column_config.TextColumn(t("col_motive")),
                "aspects": st.column_config.TextColumn(t("col_aspects")),
                "text": st.column_config.TextColumn(t("col_text"), width="large"),
                "reason": st.column_config.TextColumn(t("col_reason")),
                "reply": st.column_config.TextColumn(t("col_reply"), width="large"),
                "score": st.column_config.ProgressColumn(t("col_score"), min_value=0.0, max_value=1.0, format="%.2f"),
                "label": st.column_config.TextColumn(t("col_label")),
                "corrected_label": st.column_config.SelectboxColumn(t("col_corrected"), options=LABEL_CHOICES),
                "published_at": st.column_config.DatetimeColumn(t("col_published"), format="YYYY-MM-DD HH:mm"),
                "reach": st.column_config.NumberColumn(t("col_reach")),
                "brand": st.column_config.TextColumn(t("col_brand")),
                "source": st.column_config.TextColumn(t("col_source")),
                "url": st.column_config.LinkColumn(t("col_link")),
                "rating_conflict": st.column_config.TextColumn(t("col_conflict")),
            },
        )
        st.button(t("save_labels"), key="triage_save", on_click=save_corrections, args=(queue,))

    aspects = load_aspects(str(data.db_path()), chosen.brands, chosen.start, chosen.end)
    if not aspects.empty:
        st.subheader(t("aspect_title"))
        pivot = aspects.pivot_table(
            index="aspect", columns="polarity", values="mentions", fill_value=0, aggfunc="sum"
        ).astype(int)
        st.dataframe(pivot, width="stretch")


main()
