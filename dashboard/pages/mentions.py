"""Mentions explorer (提及): every mention under the shared filters, narrowed by a watch query
(docs/queries.md), paged and sorted in SQL (storage/search.py), with sentiment and tier
corrections stored as the triage page stores them (storage/sentiment.py).

Mention text is untrusted: it is masked (koubei.privacy.mask_pii) and shown only in
st.data_editor cells, which are drawn as text, never as Markdown or HTML.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, data, filters
from dashboard.codes import aspect_column
from dashboard.components import local_times, markdown_literal, masked
from dashboard.corrections import label_choice, save_and_notify
from dashboard.i18n import query_error_words, t
from koubei.errors import ConfigError
from koubei.settings.effective import load_effective_settings
from querylang import Query, QueryError, parse
from storage import Store
from storage.search import Found, Order, Window, count_found, search

EDITOR_KEY = "mentions_editor"
PAGE_SIZE = 50
LABEL_CHOICES = ["", "pos", "neu", "neg"]
TIER_CHOICES = [1, 2, 3, 4, 5]  # an empty cell is no correction
ORDER_NAMES = {"time": "explorer.order_time", "reach": "explorer.order_reach"}
COLUMNS = [
    "corrected_label",
    "corrected_tier",
    "text",
    "published_at",
    "source",
    "reach",
    "label",
    "tier",
    "aspects",
    "brand",
    "url",
]


@st.cache_data(ttl=data.CACHE_TTL, max_entries=32, show_spinner=False)
def load_page(db_file: str, window: Window, query: Query | None, order: Order, page: int) -> pd.DataFrame:
    with data.reading() as store:
        return read_page(store, window, query, order, page)


@st.cache_data(ttl=data.CACHE_TTL, max_entries=32, show_spinner=False)
def load_count_and_page(
    db_file: str, window: Window, query: Query | None, order: Order, page: int
) -> tuple[int, pd.DataFrame]:
    """How many mentions match and one page of them, in one connection: each open and close of the file
    cost a search 0.1-0.3 s at 10M mentions, and a search asks for both."""
    with data.reading() as store:
        return count_found(store, query, window), read_page(store, window, query, order, page)


def read_page(store: Store, window: Window, query: Query | None, order: Order, page: int) -> pd.DataFrame:
    return frame(search(store, query, window, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, order=order))


@st.cache_data(ttl=data.CACHE_TTL, show_spinner=False)
def topic_names(db_file: str) -> list[str]:
    """The configured topics (koubei.toml with the saved settings over it); none when they do not load
    (the CLI reports configuration errors)."""
    try:
        return [topic.name for topic in load_effective_settings(db=data.settings_db(db_file)).topics]
    except ConfigError:
        return []


def frame(found: list[Found]) -> pd.DataFrame:
    rows = [
        {
            "source": f.source,
            "native_id": f.native_id,
            "published_at": f.published_at,
            "text": f.text,
            "url": f.url,
            "reach": f.reach,
            "brand": f.brand,
            "label": f.label,
            "tier": f.tier,
            "aspects": " ".join(f.aspects),
            "corrected_label": f.corrected_label,
            "corrected_tier": f.corrected_tier,
        }
        for f in found
    ]
    return pd.DataFrame(rows, columns=["native_id", *COLUMNS])


def table(page: pd.DataFrame, tz: str) -> pd.DataFrame:
    shown = local_times(masked(page, ["text", "brand"]), ["published_at"], tz)
    shown["corrected_label"] = shown["corrected_label"].fillna("")
    shown["corrected_tier"] = shown["corrected_tier"].astype("Int64")
    shown["tier"] = shown["tier"].astype("Int64")
    shown["label"] = shown["label"].map(label_choice)
    shown["aspects"] = aspect_column(shown["aspects"])
    return shown[COLUMNS]


def save_corrections(page: pd.DataFrame) -> None:
    """on_click of the save button: store the labels and tiers edited in the editor, as the signed-in
    user; refused unless their role may correct (storage checks it again)."""
    if save_and_notify(EDITOR_KEY, page, "mentions_notice", "explorer.no_changes", "explorer.saved"):
        load_page.clear()
        load_count_and_page.clear()


def read_query(text: str) -> Query | None:
    """The search box's query; None when empty or malformed (the error is shown)."""
    if not text.strip():
        return None
    try:
        return parse(text)
    except QueryError as error:
        st.error(t("explorer.bad_query", message=markdown_literal(query_error_words(error)), column=error.column))
        st.code(error.caret(), language=None)  # the user's own query, shown as plain text
        st.stop()
    return None


def main() -> None:
    st.title(t("explorer.title"))
    st.caption(t("explorer.intro"))
    chosen = filters.current()
    if chosen is None:
        return
    left, right = st.columns([4, 1])
    text = left.text_input(t("explorer.search"), key="mentions_query", placeholder="充电宝 NEAR/5 发烫")
    order = right.segmented_control(
        t("explorer.order"),
        options=["time", "reach"],
        format_func=lambda o: t(ORDER_NAMES[o]),
        default="time",
        key="mentions_order",
    )
    query = read_query(text)
    db_file = str(data.db_path())
    names = topic_names(db_file)
    topics = (
        st.multiselect(t("explorer.topics"), names, key="mentions_topics", placeholder=t("filters.all"))
        if names
        else []
    )
    f = chosen.query
    window = Window(f.start, f.end, f.brands, f.products, f.sources, tuple(topics))
    ordered: Order = "reach" if order == "reach" else "time"
    asked = int(st.session_state.get("mentions_page", 1))  # the page number from the last run
    total, page = load_count_and_page(db_file, window, query, ordered, asked)
    pages = max(1, -(-total // PAGE_SIZE))
    number = int(st.number_input(t("explorer.page", pages=pages), 1, pages, 1, key="mentions_page"))
    if number != asked:  # the widget kept it within the pages there are
        page = load_page(db_file, window, query, ordered, number)
    st.caption(t("explorer.count", n=total))
    auth.notice()
    if notice := st.session_state.pop("mentions_notice", None):
        st.success(notice)  # our own message (a count), never mention text
    if page.empty:
        st.info(t("explorer.none"))
        return
    st.data_editor(
        table(page, chosen.tz),
        key=EDITOR_KEY,
        hide_index=True,
        placeholder="",  # an empty correction cell is no correction, not the word "None"
        width="stretch",
        disabled=[c for c in COLUMNS if c not in ("corrected_label", "corrected_tier")],
        column_config={
            "corrected_label": st.column_config.SelectboxColumn(
                t("triage.col_corrected"), options=LABEL_CHOICES, format_func=label_choice
            ),
            "corrected_tier": st.column_config.SelectboxColumn(t("triage.col_corrected_tier"), options=TIER_CHOICES),
            "text": st.column_config.TextColumn(t("col.text"), width="large"),
            "published_at": st.column_config.DatetimeColumn(t("col.time"), format="YYYY-MM-DD HH:mm"),
            "source": st.column_config.TextColumn(t("col.source")),
            "reach": st.column_config.NumberColumn(t("triage.col_reach")),
            "label": st.column_config.TextColumn(t("col.label")),
            "tier": st.column_config.NumberColumn(t("triage.col_urgency"), format="%d"),
            "aspects": st.column_config.TextColumn(t("triage.col_aspects")),
            "brand": st.column_config.TextColumn(t("col.brand")),
            "url": st.column_config.LinkColumn(t("col.link")),
        },
    )
    st.button(t("explorer.save"), key="mentions_save", on_click=save_corrections, args=(page,))


main()
