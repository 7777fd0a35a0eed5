"""话题 / Topics page: sentiment per aspect over time, the themes rising against the previous
period (each selectable to its mentions), and the questions customers ask most (FAQ candidates,
reports/faq.py).

Under the shared filters. Themes and questions are words and text from mentions: shown only in
st.dataframe cells (masked) or escaped in chart labels; dashboard/topics.py finds them.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import charts, data
from dashboard.components import escaped, local_times, masked
from dashboard.filters import Filters, current
from dashboard.guarded import read_or_say
from dashboard.i18n import aspect_name, t, t_value
from dashboard.loaders import LOCK_TIMEOUT, store_stamp
from dashboard.topics import TopicsData, load_topics, themes_frame
from reports.faq import OTHER
from storage import open_store
from storage.queries import MentionFilter
from storage.topics import mentions_with

TIME_FORMAT = "YYYY-MM-DD HH:mm"


@st.cache_data(max_entries=16, show_spinner=False)
def _topics_data(db: str, f: MentionFilter, tz: str, stamp: tuple[int, ...]) -> TopicsData:
    return load_topics(db, f, tz)


def topics_data(db: str, f: MentionFilter, tz: str) -> TopicsData:
    """load_topics, read again only when the store changed (segmenting the texts takes a second or two)."""
    return _topics_data(db, f, tz, store_stamp(db))


@st.cache_data(ttl=data.CACHE_TTL, max_entries=16, show_spinner=False)
def theme_mentions(db: str, f: MentionFilter, word: str) -> pd.DataFrame:
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        return mentions_with(store, f, word)


def aspect_figure(series: pd.DataFrame) -> go.Figure:
    """Net sentiment of each aspect per bucket; buckets with fewer than charts.MIN_SCORED mentions of it left out."""
    fig = go.Figure()
    for aspect, mine in series.groupby("aspect", sort=True):
        name = escaped(aspect_name(aspect))
        shown = mine["net_sentiment"].where(mine["mentions"] >= charts.MIN_SCORED)
        fig.add_trace(
            go.Scatter(
                x=mine["bucket"],
                y=shown,
                name=name,
                mode="lines+markers",
                customdata=mine["mentions"],
                hovertemplate=f"{name} %{{y:+.2f}} (%{{customdata}})<extra></extra>",
            )
        )
    fig.update_xaxes(tickformatstops=charts.TICKS, hoverformat="%Y-%m-%d %H:%M")
    fig.update_layout(
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"title": t("topics.axis_net"), "range": [-1.05, 1.05]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


def themes_table(frame: pd.DataFrame) -> list[int]:
    """The rising themes; returns the selected rows."""
    event = st.dataframe(
        masked(frame, ["word"]),
        key="topics_themes",
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "word": st.column_config.TextColumn(t("topics.col_theme")),
            "now": st.column_config.NumberColumn(t("topics.col_now"), format="%d"),
            "before": st.column_config.NumberColumn(t("topics.col_before"), format="%d"),
            "share_now": st.column_config.NumberColumn(t("topics.col_share_now"), format="percent"),
            "share_before": st.column_config.NumberColumn(t("topics.col_share_before"), format="percent"),
            "growth": st.column_config.NumberColumn(t("topics.col_growth"), format="%+.1f pp"),
        },
    )
    try:
        return list(event["selection"]["rows"])
    except (KeyError, TypeError):
        return []


def mentions_table(frame: pd.DataFrame, tz: str) -> None:
    shown = local_times(masked(frame, ["text", "brand", "product", "source"]), ["published_at"], tz)
    shown["label"] = shown["label"].map(lambda v: t_value("label", v))
    st.dataframe(
        shown,
        key="topics_theme_mentions",
        hide_index=True,
        column_config={
            "published_at": st.column_config.DatetimeColumn(t("col.time"), format=TIME_FORMAT),
            "source": st.column_config.TextColumn(t("col.source")),
            "brand": st.column_config.TextColumn(t("col.brand")),
            "product": st.column_config.TextColumn(t("col.product")),
            "text": st.column_config.TextColumn(t("col.text"), width="large"),
            "url": st.column_config.LinkColumn(t("col.link"), display_text=t("overview.open_link")),
            "label": st.column_config.TextColumn(t("col.label")),
        },
    )


def faq_frame(view: TopicsData) -> pd.DataFrame:
    rows = [
        {
            "aspect": t("topics.no_aspect") if topic.aspect == OTHER else aspect_name(topic.aspect),
            "questions": topic.questions,
            "sources": "、".join(f"{source} {n}" for source, n in topic.sources),
            "examples": " ／ ".join(e.text for e in topic.examples),
        }
        for topic in view.faq
    ]
    return masked(pd.DataFrame(rows, columns=["aspect", "questions", "sources", "examples"]), ["examples", "sources"])


def faq_table(frame: pd.DataFrame) -> None:
    st.dataframe(
        frame,
        key="topics_faq",
        hide_index=True,
        column_config={
            "aspect": st.column_config.TextColumn(t("topics.col_aspect")),
            "questions": st.column_config.NumberColumn(t("topics.col_questions"), format="%d"),
            "sources": st.column_config.TextColumn(t("topics.col_sources")),
            "examples": st.column_config.TextColumn(t("topics.col_examples"), width="large"),
        },
    )


def body(db: str, f: Filters) -> None:
    view = read_or_say(lambda: topics_data(db, f.query, f.tz))
    if view is None:
        return
    st.subheader(t("topics.aspects_title"))
    if view.aspects.empty:
        st.info(t("topics.no_aspects"))
    else:
        st.plotly_chart(aspect_figure(view.aspects), key="topics_aspects", config={"displaylogo": False})
        st.caption(t("topics.aspects_hint", few=charts.MIN_SCORED))

    st.subheader(t("topics.themes_title"))
    prev_first, prev_last = f.start_day - timedelta(days=f.days), f.start_day - timedelta(days=1)
    st.caption(
        t(
            "topics.themes_hint",
            prev=f"{prev_first:%Y-%m-%d} – {prev_last:%Y-%m-%d}",
            per_day=view.texts_per_day,
            now=view.texts_now,
            before=view.texts_before,
        )
    )
    if view.texts_now and not view.texts_before:
        st.caption(t("topics.no_previous"))
    if not view.themes:
        st.info(t("topics.no_themes"))
    else:
        picked = [r for r in themes_table(themes_frame(view.themes)) if r < len(view.themes)]
        if picked:
            word = view.themes[picked[0]].word
            st.markdown(f"**{t('topics.theme_mentions')}**")
            st.text(word)  # a word from mentions: plain text
            mentions_table(theme_mentions(db, f.query, word), f.tz)
        else:
            st.caption(t("topics.pick_theme"))

    st.subheader(t("topics.faq_title"))
    st.caption(t("topics.faq_hint", per_day=view.sample_per_day, n=view.sampled))
    if not view.faq:
        st.info(t("topics.no_questions"))
    else:
        faq_table(faq_frame(view))


def main() -> None:
    st.title(t("topics.title"))
    f = current()
    if f is None:  # the entrypoint found no data and said so
        return
    body(str(data.db_path()), f)


main()
