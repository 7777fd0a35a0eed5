"""Triage page: complaints and questions with tier, motive, aspects, the deciding
rule, a suggested reply, triage's own reading where it differs from the model's
label, and an editor that stores label and tier corrections.

Untrusted text (mention text, and anything derived from it) appears only in
st.data_editor / st.dataframe cells, masked with koubei.privacy.mask_pii. Its
reads go through storage/triage.py; each unit of work opens its own
short-lived Store (dashboard.data.reading / writing).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data, filters
from dashboard.codes import aspect_column, reason_words
from dashboard.components import local_times, masked
from dashboard.corrections import label_choice, save_and_notify
from dashboard.i18n import aspect_name, t, t_value
from dashboard.loaders import TRIAGE_MIN_TIER, TRIAGE_ROWS
from storage import triage as db
from storage.queries import MentionFilter

EDITOR_KEY = "triage_editor"
LABEL_CHOICES = ["", "pos", "neu", "neg"]
TIER_CHOICES = [1, 2, 3, 4, 5]  # an empty cell is no correction
TIER_LABELS = {
    5: "triage.tier_label_5",
    4: "triage.tier_label_4",
    3: "triage.tier_label_3",
    2: "triage.tier_label_2",
    1: "triage.tier_label_1",
}


@st.cache_data(ttl=data.CACHE_TTL, max_entries=16, show_spinner=False)
def load_queue(db_file: str, f: MentionFilter, min_tier: int) -> pd.DataFrame:
    with data.reading() as store:
        return db.triage_queue(
            store,
            brands=f.brands,
            products=f.products,
            sources=f.sources,
            start=f.start,
            end=f.end,
            min_urgency=min_tier,
            limit=TRIAGE_ROWS,
        )


@st.cache_data(ttl=data.CACHE_TTL, max_entries=16, show_spinner=False)
def load_counts(db_file: str, f: MentionFilter) -> dict[int, int]:
    with data.reading() as store:
        return db.triage_counts(
            store, brands=f.brands, products=f.products, sources=f.sources, start=f.start, end=f.end
        )


@st.cache_data(ttl=data.CACHE_TTL, max_entries=16, show_spinner=False)
def load_aspects(db_file: str, f: MentionFilter) -> pd.DataFrame:
    with data.reading() as store:
        return db.aspect_summary(
            store, brands=f.brands, products=f.products, sources=f.sources, start=f.start, end=f.end
        )


def save_corrections(queue: pd.DataFrame) -> None:
    """on_click of the save button: store the labels and tiers edited in the editor, as the signed-in
    user; refused unless their role may correct (storage checks it again)."""
    if save_and_notify(EDITOR_KEY, queue, "triage_notice", "triage.no_changes", "triage.saved_labels"):
        load_queue.clear()


def table(queue: pd.DataFrame, tz: str) -> pd.DataFrame:
    shown = masked(queue, ["text", "reason", "reply", "aspects", "product", "brand"])
    shown = local_times(shown, ["published_at"], tz)
    shown["corrected_label"] = shown["corrected_label"].fillna("")
    shown["corrected_tier"] = shown["corrected_tier"].astype("Int64")
    # Triage's reading only where it differs from the model's label (the tier follows it).
    shown["reading"] = shown["reading"].where(shown["reading"] != shown["label"], "").fillna("").map(label_choice)
    shown["aspects"] = aspect_column(shown["aspects"])
    shown["reason"] = shown["reason"].map(reason_words)
    shown["label"] = shown["label"].map(label_choice)
    # Motives are stored in DOMAIN.md's words; the page names them in its language.
    shown["motive"] = shown["motive"].fillna("").map(lambda code: t_value("motive", code))
    shown["rating_conflict"] = shown["rating_conflict"].map(lambda v: t("triage.yes") if v else "")
    columns = [
        "urgency",
        "motive",
        "aspects",
        "text",
        "reason",
        "reply",
        "score",
        "label",
        "reading",
        "corrected_label",
        "corrected_tier",
        "published_at",
        "reach",
        "brand",
        "source",
        "url",
        "rating_conflict",
    ]
    return shown[columns]


def main() -> None:
    st.title(t("triage.title"))
    st.caption(t("triage.intro"))
    chosen = filters.current()
    if chosen is None:
        return
    min_tier = st.select_slider(
        t("triage.min_tier"), options=[1, 2, 3, 4, 5], value=TRIAGE_MIN_TIER, key="triage_min_tier"
    )
    db_file = str(data.db_path())
    queue = load_queue(db_file, chosen.query, min_tier)
    counts = load_counts(db_file, chosen.query)
    for column, (tier, label) in zip(st.columns(5), TIER_LABELS.items(), strict=True):
        column.metric(f"{t('triage.tier_n', n=tier)} · {t(label)}", counts.get(tier, 0))
    shown_total = sum(n for tier, n in counts.items() if tier >= min_tier)
    if shown_total > len(queue):
        st.caption(t("triage.showing_top", n=len(queue), total=shown_total))

    auth.notice()
    if notice := st.session_state.pop("triage_notice", None):
        st.success(notice)  # our own message (a count), never mention text

    if queue.empty:
        st.info(t("triage.no_triage"))
    else:
        shown = table(queue, chosen.tz)
        st.data_editor(
            shown,
            key=EDITOR_KEY,
            hide_index=True,
            placeholder="",  # an empty correction cell is no correction, not the word "None"
            width="stretch",
            disabled=[c for c in shown.columns if c not in ("corrected_label", "corrected_tier")]
            if auth.allowed("correct")
            else True,
            column_config={
                "urgency": st.column_config.NumberColumn(t("triage.col_urgency"), format="%d"),
                "motive": st.column_config.TextColumn(t("triage.col_motive")),
                "aspects": st.column_config.TextColumn(t("triage.col_aspects")),
                "text": st.column_config.TextColumn(t("col.text"), width="large"),
                "reason": st.column_config.TextColumn(t("triage.col_reason")),
                "reply": st.column_config.TextColumn(t("triage.col_reply"), width="large"),
                "score": st.column_config.ProgressColumn(t("col.score"), min_value=0.0, max_value=1.0, format="%.2f"),
                "label": st.column_config.TextColumn(t("triage.col_label")),
                "reading": st.column_config.TextColumn(t("triage.col_reading")),
                "corrected_label": st.column_config.SelectboxColumn(
                    t("triage.col_corrected"), options=LABEL_CHOICES, format_func=label_choice
                ),
                "corrected_tier": st.column_config.SelectboxColumn(
                    t("triage.col_corrected_tier"), options=TIER_CHOICES
                ),
                "published_at": st.column_config.DatetimeColumn(t("triage.col_published"), format="YYYY-MM-DD HH:mm"),
                "reach": st.column_config.NumberColumn(t("triage.col_reach")),
                "brand": st.column_config.TextColumn(t("col.brand")),
                "source": st.column_config.TextColumn(t("col.source")),
                "url": st.column_config.LinkColumn(t("col.link")),
                "rating_conflict": st.column_config.TextColumn(t("triage.col_conflict")),
            },
        )
        st.button(
            t("triage.save_labels"),
            key="triage_save",
            on_click=save_corrections,
            args=(queue,),
        )

    aspects = load_aspects(db_file, chosen.query)
    if not aspects.empty:
        st.subheader(t("triage.aspect_title"))
        pivot = aspects.pivot_table(
            index="aspect", columns="polarity", values="mentions", fill_value=0, aggfunc="sum"
        ).astype(int)
        pivot.index = [aspect_name(a) for a in pivot.index]
        pivot.index.name = t("triage.col_aspect")
        pivot.columns = [t_value("label", c) for c in pivot.columns]
        st.dataframe(pivot, width="stretch")


main()
