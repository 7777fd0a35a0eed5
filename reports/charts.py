"""The report's charts: plotly figures built from the facts, drawn by plotly.js inline.

Sized for an A4 page (about 680 CSS pixels between the margins) so the PDF prints the
same SVG the HTML shows. Labels that come from mention data (aspect names from the
configuration, scope values) are HTML-escaped: plotly renders a subset of HTML in text.
"""

from __future__ import annotations

import html
from datetime import UTC
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.i18n import t
from reports.facts import ReportFacts, aspect_name

WIDTH = 680
FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, Microsoft YaHei, sans-serif"
KIND_COLORS = {"volume": "rgba(255, 165, 0, 0.20)", "negative": "rgba(220, 20, 60, 0.18)"}


def _layout(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        width=WIDTH,
        height=height,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        font={"family": FONT, "size": 11},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        plot_bgcolor="white",
        paper_bgcolor="white",
        bargap=0.1,
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eee")
    fig.update_yaxes(showgrid=True, gridcolor="#eee")
    return fig


def trend_figure(facts: ReportFacts) -> go.Figure:
    """Volume bars on top, average sentiment and negative share below, each incident case
    shaded over its window and numbered at its peak as in the incidents section."""
    lang, tz = facts.request.lang, ZoneInfo(facts.request.period.tz)
    series = facts.series
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4])
    fig.add_trace(
        go.Bar(x=series["bucket"], y=series["mentions"], name=t("report.chart_mentions", lang), marker_color="#4C78A8"),
        row=1,
        col=1,
    )
    for column, key, color in (
        ("avg_score", "report.chart_avg", "#54A24B"),
        ("negative_share", "report.chart_neg_share", "#E45756"),
    ):
        fig.add_trace(
            go.Scatter(x=series["bucket"], y=series[column], name=t(key, lang), mode="lines", line={"color": color}),
            row=2,
            col=1,
        )
    top = max(float(series["mentions"].max()) if not series.empty else 1.0, 1.0)
    first, last = facts.request.period.start, facts.request.period.end

    def local(moment: object) -> pd.Timestamp:
        clipped = min(max(pd.Timestamp(moment), pd.Timestamp(first)), pd.Timestamp(last))
        return clipped.tz_localize(UTC).tz_convert(tz).tz_localize(None)

    peaks_x, labels = [], []
    for item in facts.cases:
        start, end = item.case.window
        fig.add_vrect(
            x0=local(start),
            x1=local(end),
            fillcolor=KIND_COLORS.get(item.case.lead.kind, "rgba(128,128,128,0.18)"),
            line_width=0,
            layer="below",
            row="all",
            col=1,
        )
        peaks_x.append(local(item.case.lead.peak_at))
        labels.append(str(item.number))
    if labels:
        fig.add_trace(
            go.Scatter(
                x=peaks_x,
                y=[top * 1.12] * len(labels),
                mode="markers+text",
                text=labels,
                textposition="top center",
                marker={"symbol": "triangle-down", "size": 12, "color": "#C0392B"},
                textfont={"color": "#C0392B", "size": 11},
                name=t("report.chart_cases", lang),
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    fig.update_yaxes(range=[0, top * 1.3], rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1], row=2, col=1)
    fig.update_xaxes(
        tickformatstops=[
            {"dtickrange": [None, 86_400_000], "value": "%m-%d %H:%M"},
            {"dtickrange": [86_400_000, None], "value": "%m-%d"},
        ],
        hoverformat="%Y-%m-%d %H:%M",
    )
    return _layout(fig, 420)


def aspect_figure(facts: ReportFacts) -> go.Figure:
    """Negative share per aspect, this period against the previous one."""
    lang = facts.request.lang
    names = [html.escape(aspect_name(a.aspect, lang, facts.request.aspect_names)) for a in facts.aspects]
    fig = go.Figure()
    for key, values, color in (
        ("report.chart_previous", [a.previous_share for a in facts.aspects], "#BAB0AC"),
        ("report.chart_this_period", [a.negative_share for a in facts.aspects], "#E45756"),
    ):
        fig.add_trace(
            go.Bar(
                y=names,
                x=values,
                orientation="h",
                name=t(key, lang),
                marker_color=color,
                text=[f"{v:.0%}" if v is not None else "" for v in values],
                textposition="outside",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(range=[0, 1.1], tickformat=".0%")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, 80 + 46 * max(len(names), 1))
