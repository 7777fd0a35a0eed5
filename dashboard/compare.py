"""The overview's comparison: a brand beside its competitors (koubei.toml `competitor_of`) and the
brands of its market (`market`): share of voice, net sentiment and negative share over time and
per channel, each brand's incidents marked in its colour.

The shared filter's period and sources apply; its brands pick which comparison is shown first
(a product filter would leave the competitors out, so it does not apply here). Queries are in
storage/compare.py; the figures are pure functions of their frames. Brand names and incident
scopes can come from imported data: escaped in the charts, table cells elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import charts, url
from dashboard.components import escaped, local
from dashboard.data import CACHE_TTL
from dashboard.guarded import read_or_say
from dashboard.i18n import t, t_value
from dashboard.loaders import LOCK_TIMEOUT, store_stamp
from koubei.config import load_settings
from koubei.errors import ConfigError
from koubei.settings.sections import Brand
from storage import open_store
from storage.compare import brand_incidents, brand_series, channel_shares
from storage.incidents import Incident
from storage.queries import MentionFilter

COLOURS = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#9D755D", "#72B7B2", "#EECA3B")
FINE_SPAN = timedelta(days=3)  # up to this span the chart has 6-hour buckets, beyond it days
INCIDENT_TRACE = "compare_incidents"
GROUP_KEY = "compare_brand"


@dataclass(frozen=True)
class Group:
    """An own brand and the brands it is compared with, the own brand first."""

    brand: str
    members: tuple[str, ...]


def comparison_groups(brands: Sequence[Brand]) -> list[Group]:
    """One group per own brand (no competitor_of) that has a competitor or shares a market."""
    groups = []
    for own in (b for b in brands if b.competitor_of is None):
        rivals = [
            b.name
            for b in brands
            if b.name != own.name and (b.competitor_of == own.name or (own.market and b.market == own.market))
        ]
        if rivals:
            groups.append(Group(own.name, (own.name, *dict.fromkeys(rivals))))
    return groups


def first_group(groups: Sequence[Group], selected: Sequence[str]) -> Group:
    """The group of the first brand the filter selects: its own, else the first it is compared in."""
    for name in selected:
        if found := [g for g in groups if g.brand == name] or [g for g in groups if name in g.members]:
            return found[0]
    return groups[0]


@dataclass
class Comparison:
    series: pd.DataFrame  # storage.compare.brand_series
    channels: pd.DataFrame  # storage.compare.channel_shares
    incidents: list[Incident]
    bucket_seconds: int


def load_comparison(db: str, f: MentionFilter, bucket_seconds: int | None, tz: str) -> Comparison:
    """Everything the comparison shows, in one short read-only connection (see dashboard/loaders.py)."""
    bucket = bucket_seconds or (6 * 3600 if f.end - f.start <= FINE_SPAN else 86400)
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        return Comparison(
            series=brand_series(store, f, timedelta(seconds=bucket), tz),
            channels=channel_shares(store, f),
            incidents=brand_incidents(store, f),
            bucket_seconds=bucket,
        )


def brand_totals(channels: pd.DataFrame, brands: Sequence[str], incidents: Sequence[Incident]) -> pd.DataFrame:
    """Per brand over the whole period: mentions, share_of_voice, net_sentiment, negative_share, incidents."""
    summed = channels.groupby("brand")[["mentions", "scored", "positive", "negative"]].sum()
    totals = summed.reindex(list(brands), fill_value=0)
    scored = totals["scored"].where(totals["scored"] > 0)
    all_mentions = int(totals["mentions"].sum())
    totals["share_of_voice"] = totals["mentions"] / all_mentions if all_mentions else None
    totals["net_sentiment"] = (totals["positive"] - totals["negative"]) / scored
    totals["negative_share"] = totals["negative"] / scored
    totals["incidents"] = [sum(1 for i in incidents if i.brand == b) for b in brands]
    return totals.reset_index(names="brand")


def colour_of(brands: Sequence[str]) -> dict[str, str]:
    return {brand: COLOURS[n % len(COLOURS)] for n, brand in enumerate(brands)}


def comparison_figure(series: pd.DataFrame, incidents: Sequence[Incident], brands: Sequence[str], tz: str) -> go.Figure:
    """Share of voice, net sentiment and negative share per brand over time (buckets with fewer
    than charts.MIN_SCORED scored mentions leave the sentiment lines out); incidents shaded and
    marked in their brand's colour, a marker click opens the brief."""
    colours = colour_of(brands)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05, row_heights=[0.4, 0.3, 0.3])
    for brand in brands:
        mine = series[series["brand"] == brand]
        thin = mine["scored"] < charts.MIN_SCORED
        name = escaped(brand)
        for row, column in ((1, "share_of_voice"), (2, "net_sentiment"), (3, "negative_share")):
            values = mine[column].where(~thin) if row > 1 else mine[column]
            fig.add_trace(
                go.Scatter(
                    x=mine["bucket"],
                    y=values,
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    mode="lines",
                    line={"color": colours[brand], "width": 3 if brand == brands[0] else 2},
                    connectgaps=False,
                    hovertemplate=f"{name} %{{y:.0%}}<extra></extra>"
                    if row != 2
                    else f"{name} %{{y:+.2f}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
    _mark_incidents(fig, incidents, colours, tz)
    fig.update_xaxes(tickformatstops=charts.TICKS, hoverformat="%Y-%m-%d %H:%M")
    fig.update_yaxes(title_text=t("compare.axis_share_of_voice"), range=[0, 1.12], tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text=t("compare.axis_net"), range=[-1, 1], row=2, col=1)
    fig.update_yaxes(title_text=t("compare.axis_negative"), range=[0, 1], tickformat=".0%", row=3, col=1)
    fig.update_layout(
        height=560,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        clickmode="event+select",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
    )
    return fig


def _mark_incidents(fig: go.Figure, incidents: Sequence[Incident], colours: dict[str, str], tz: str) -> None:
    def at(moment: datetime) -> datetime:
        return local(moment, tz).replace(tzinfo=None)

    windows = [(i.brand or "", at(i.window_start), at(i.window_end)) for i in incidents]
    for brand, start, end in charts.merged_windows(windows) if windows else []:
        fig.add_vrect(
            x0=start,
            x1=end,
            fillcolor=colours.get(brand, charts.DEFAULT_SHADE),
            opacity=0.12,
            line_width=0,
            layer="below",
            row="all",
            col=1,
        )
    if not incidents:
        return
    fig.add_trace(
        go.Scatter(
            x=[at(i.peak_at) for i in incidents],
            y=[1.06] * len(incidents),
            mode="markers",
            name=t("chart.series_incidents"),
            uid=INCIDENT_TRACE,
            marker={
                "symbol": "triangle-down",
                "size": 14,
                "color": [colours.get(i.brand or "", "#C0392B") for i in incidents],
            },
            customdata=[[str(i.id)] for i in incidents],
            hovertext=[incident_hover(i) for i in incidents],
            hoverinfo="text",
        ),
        row=1,
        col=1,
    )


def incident_hover(incident: Incident) -> str:
    return (
        f"<b>{escaped(incident.brand or '')}</b> · {t('col.severity')} {incident.severity}"
        f" · {t_value('kind', incident.kind)} · {charts.scope_label(incident)}"
    )


def channel_figure(channels: pd.DataFrame, brands: Sequence[str]) -> go.Figure:
    """Share of voice on each channel, one bar per brand."""
    colours = colour_of(brands)
    fig = go.Figure()
    for brand in brands:
        mine = channels[channels["brand"] == brand]
        fig.add_trace(
            go.Bar(
                x=[escaped(s) for s in mine["source"]],
                y=mine["share_of_voice"],
                name=escaped(brand),
                marker_color=colours[brand],
                hovertemplate=f"{escaped(brand)} %{{x}}: %{{y:.0%}}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"title": t("compare.axis_share_of_voice"), "tickformat": ".0%", "range": [0, 1]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


@st.cache_data(ttl=CACHE_TTL, max_entries=1, show_spinner=False)
def configured_groups() -> list[Group]:
    """The comparisons koubei.toml defines; a bad file shows none (the CLI reports config errors)."""
    try:
        return comparison_groups(load_settings().brands)
    except ConfigError:
        return []


@st.cache_data(max_entries=16, show_spinner=False)
def _comparison(db: str, f: MentionFilter, bucket_seconds: int | None, tz: str, stamp: tuple[int, ...]) -> Comparison:
    return load_comparison(db, f, bucket_seconds, tz)


def comparison(db: str, f: MentionFilter, bucket_seconds: int | None, tz: str) -> Comparison:
    """load_comparison, read again only when the store changed."""
    return _comparison(db, f, bucket_seconds, tz, store_stamp(db))


def shares_table(frame: pd.DataFrame, key: str) -> None:
    """Per brand (and channel, when `frame` has a source column): volume, share of voice, net sentiment,
    negative share; table cells, so names from imported data stay text."""
    st.dataframe(
        frame,
        key=key,
        hide_index=True,
        column_order=["source", "brand", "mentions", "share_of_voice", "net_sentiment", "negative_share", "incidents"],
        column_config={
            "source": st.column_config.TextColumn(t("col.source")),
            "brand": st.column_config.TextColumn(t("col.brand")),
            "mentions": st.column_config.NumberColumn(t("compare.col_mentions"), format="%d"),
            "share_of_voice": st.column_config.ProgressColumn(
                t("compare.col_share_of_voice"), min_value=0.0, max_value=1.0, format="percent"
            ),
            "net_sentiment": st.column_config.NumberColumn(
                t("compare.col_net"), format="%+.2f", help=t("compare.net_help")
            ),
            "negative_share": st.column_config.NumberColumn(t("compare.col_negative"), format="percent"),
            "incidents": st.column_config.NumberColumn(t("compare.col_incidents"), format="%d"),
        },
    )


def section(db: str, f: MentionFilter, selected: Sequence[str], bucket_seconds: int | None, tz: str) -> None:
    """The comparison section of the overview."""
    st.subheader(t("compare.title"))
    groups = configured_groups()
    if not groups:
        st.info(t("compare.no_competitors"))
        return
    comparison_view(db, f, groups, first_group(groups, selected), bucket_seconds, tz)


# A fragment of its own inside the overview's live one: picking another brand to compare reruns the
# comparison only, not the whole overview (its KPIs, trend, tables and export counts).
@st.fragment
def comparison_view(
    db: str, f: MentionFilter, groups: list[Group], default: Group, bucket_seconds: int | None, tz: str
) -> None:
    """The picked group's comparison: totals, the share-of-voice chart and the channels."""
    names = [g.brand for g in groups]
    if st.session_state.get(GROUP_KEY) not in names:
        st.session_state[GROUP_KEY] = default.brand
    picked = st.selectbox(t("compare.brand"), names, key=GROUP_KEY) or default.brand
    group = next(g for g in groups if g.brand == picked)
    view = read_or_say(lambda: comparison(db, replace(f, brands=group.members, products=()), bucket_seconds, tz))
    if view is None:
        return
    if not (view.channels["brand"] != group.brand).any():
        # Nothing to set beside the brand: no chart of one brand's 100% share (and the overview
        # stays as it was for a store that holds no competitors' mentions).
        st.info(t("compare.no_rival_mentions"))
        return
    shares_table(brand_totals(view.channels, group.members, view.incidents), key="compare_totals")
    fig = comparison_figure(view.series, view.incidents, group.members, tz)
    event = st.plotly_chart(
        fig, key="compare_ts", on_select="rerun", selection_mode=("points",), config={"displaylogo": False}
    )
    st.caption(t("compare.chart_hint", few=charts.MIN_SCORED))
    if clicked := charts.selected_incident_ids(event):
        url.open_brief(clicked[0])
    st.markdown(f"**{t('compare.by_channel')}**")
    st.plotly_chart(channel_figure(view.channels, group.members), key="compare_channels", config={"displaylogo": False})
    shares_table(view.channels, key="compare_by_channel")
