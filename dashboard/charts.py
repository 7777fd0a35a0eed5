"""The dashboard's plotly figures, pure functions of frames and cases (tested without a browser).

The overview: volume on top, sentiment and negative share below, incidents shaded and
marked. A click on a shaded rectangle selects nothing in Streamlit, so each case also
gets a marker point carrying its incidents' ids in `customdata` (the lead first): one
marker per case (alerts/cases.py), so the eleven incidents of one crisis are one
clickable marker, and an unrelated burst in the same hours is a marker of its own.

The incident brief: the scope's series against its expected band, with the window.
Times are drawn in the display zone; text from mentions is escaped (plotly renders a
subset of HTML in labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from alerts.cases import Case
from dashboard.components import escaped, local
from dashboard.i18n import scope_value_words, t, t_value
from storage.incidents import Incident

INCIDENT_TRACE = "incidents"
KIND_COLORS = {"volume": "rgba(255, 165, 0, 0.18)", "negative": "rgba(220, 20, 60, 0.18)"}
DEFAULT_SHADE = "rgba(128, 128, 128, 0.18)"
# Below this many scored mentions a bucket's share swings between 0 and 1 on one post: not drawn.
MIN_SCORED = 5
HOVER_RELATED = 3  # incidents of a case named in its marker's hover besides the lead
HOVER_KEYWORDS = 5
TICKS = [
    {"dtickrange": [None, 86_400_000], "value": "%m-%d %H:%M"},
    {"dtickrange": [86_400_000, None], "value": "%m-%d"},
]


def _naive_local(moment: datetime, tz: str) -> datetime:
    return local(moment, tz).replace(tzinfo=None)


def thin_shares(series: pd.DataFrame) -> pd.DataFrame:
    """The series with sentiment and share left out of buckets holding fewer than MIN_SCORED scored mentions."""
    out = series.copy()
    few = out["scored"] < MIN_SCORED
    out.loc[few, ["avg_score", "negative_share"]] = None
    return out


def timeseries_figure(series: pd.DataFrame, cases: Sequence[Case[Incident]], tz: str) -> go.Figure:
    """`series` from storage.queries.volume_series (local buckets), `cases` of the period."""
    shown = thin_shares(series)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.6, 0.4])
    fig.add_trace(
        go.Bar(x=shown["bucket"], y=shown["mentions"], name=t("chart.series_mentions"), marker_color="#4C78A8"),
        row=1,
        col=1,
    )
    for column, name, colour in (
        ("avg_score", "chart.series_avg", "#54A24B"),
        ("negative_share", "chart.series_neg_share", "#E45756"),
    ):
        fig.add_trace(
            go.Scatter(
                x=shown["bucket"],
                y=shown[column],
                name=t(name),
                mode="lines",
                line={"color": colour},
                connectgaps=False,
            ),
            row=2,
            col=1,
        )
    top = max(float(series["mentions"].max()) if not series.empty else 1.0, 1.0)
    if cases:
        _mark_cases(fig, cases, tz, top)
    fig.update_yaxes(range=[0, top * 1.28], row=1, col=1)  # room for the markers over the bars
    # Numeric dates, not plotly's English month names, in either language.
    fig.update_xaxes(tickformatstops=TICKS, hoverformat="%Y-%m-%d %H:%M")
    fig.update_yaxes(title_text=t("chart.axis_volume"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text=t("chart.axis_share"), range=[0, 1], row=2, col=1)
    fig.update_layout(
        height=460,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        bargap=0.1,
        clickmode="event+select",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
        # A short label beside the marker, not a box over the spike it describes.
        hoverlabel={"align": "left", "namelength": 0},
    )
    return fig


def _mark_cases(fig: go.Figure, cases: Sequence[Case[Incident]], tz: str, top: float) -> None:
    for kind, start, end in merged_windows(
        [
            (c.lead.kind, _naive_local(m.window_start, tz), _naive_local(m.window_end, tz))
            for c in cases
            for m in c.members
        ]
    ):
        fig.add_vrect(
            x0=start,
            x1=end,
            fillcolor=KIND_COLORS.get(kind, DEFAULT_SHADE),
            line_width=0,
            layer="below",
            row="all",
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=[_naive_local(c.lead.peak_at, tz) for c in cases],
            # Cases peaking close together are stacked, not drawn over each other.
            y=[top * (1.08 + 0.1 * (n % 2)) for n in range(len(cases))],
            mode="markers+text",
            name=t("chart.series_incidents"),
            uid=INCIDENT_TRACE,
            marker={"symbol": "triangle-down", "size": 16, "color": "#C0392B"},
            text=[f"×{len(c.members)}" if c.related else "" for c in cases],
            # Beside the marker, at its height (plotly's x autorange makes room for it at either end).
            # Above it, the upper row's label left the plot area and was clipped: the axis keeps 0.1
            # of its height over that marker, about 17 px, less than half the marker and a line of text.
            textposition="middle right",
            textfont={"color": "#C0392B", "size": 11},
            # lead first: a click selects customdata[0]
            customdata=[[str(m.id) for m in c.members] for c in cases],
            hovertext=[case_hover(c) for c in cases],
            hoverinfo="text",
        ),
        row=1,
        col=1,
    )


def merged_windows(windows: Sequence[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """One shaded span per kind for overlapping (kind, start, end) windows: a crisis flagged for the
    brand, the product and each channel at once would otherwise stack translucent layers into a dark block."""
    spans: list[tuple[str, Any, Any]] = []
    for kind in sorted({w[0] for w in windows}):
        mine = sorted((s, e) for k, s, e in windows if k == kind)
        current_start, current_end = mine[0]
        for start, end in mine[1:]:
            if start <= current_end:
                current_end = max(current_end, end)
            else:
                spans.append((kind, current_start, current_end))
                current_start, current_end = start, end
        spans.append((kind, current_start, current_end))
    return spans


def case_hover(case: Case[Incident]) -> str:
    """The lead in one line, a few of the case's other incidents, and its keywords."""
    lead = case.lead
    lines = [
        f"<b>{t('col.severity')} {case.severity} · {t_value('kind', lead.kind)} · {scope_label(lead)}</b>",
        f"{t('col.observed')} {lead.observed:.3g} / {t('col.expected')} {lead.expected:.3g}"
        f" · {t_value('status', case.status)}",
    ]
    if case.related:
        named = "、".join(scope_label(m) for m in case.related[:HOVER_RELATED])
        more = len(case.related) - HOVER_RELATED
        lines.append(t("chart.hover_related", scopes=named) + (f" +{more}" if more > 0 else ""))
    if lead.keywords:
        lines.append(escaped("、".join(lead.keywords[:HOVER_KEYWORDS])))
    return "<br>".join(lines)


def scope_label(incident: Incident) -> str:
    """ "产品 声浪P20充电宝", escaped for a chart (scope values can come from imported data)."""
    value = scope_value_words(incident.scope_type, incident.scope_value)
    return f"{t_value('scope', incident.scope_type)} {escaped(value)}"


def selected_incident_ids(event: Any) -> list[str]:
    """Incident ids among the points selected in the chart (clicks on markers)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return []
    found = []
    for point in points or []:
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, (list, tuple)) and data:
            found.append(str(data[0]))
        elif isinstance(data, str):
            found.append(data)
    return found


def scope_figure(trace: pd.DataFrame, incident: Incident, tz: str) -> go.Figure:
    """The incident's scope per bucket (`trace` from alerts.backtest.scope_trace: time, observed,
    expected, low, high) against its expected band, with the incident's window shaded."""
    times = [_naive_local(moment, tz) for moment in trace["time"]]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=times, y=trace["high"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
    )
    fig.add_trace(
        go.Scatter(
            x=times,
            y=trace["low"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(84, 162, 75, 0.18)",
            name=t("chart.band"),
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=times,
            y=trace["expected"],
            mode="lines",
            line={"color": "#54A24B", "dash": "dot"},
            name=t("chart.expected"),
        )
    )
    observed = t("chart.observed_volume") if incident.kind == "volume" else t("chart.observed_negative")
    fig.add_trace(go.Bar(x=times, y=trace["observed"], name=observed, marker_color="#E45756"))
    fig.add_vrect(
        x0=_naive_local(incident.window_start, tz),
        x1=_naive_local(incident.window_end, tz),
        fillcolor=KIND_COLORS.get(incident.kind, DEFAULT_SHADE),
        line_width=0,
        layer="below",
    )
    fig.update_xaxes(tickformatstops=TICKS, hoverformat="%m-%d %H:%M")
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        bargap=0.1,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="x unified",
    )
    return fig


def breakdown_figure(
    labels: Sequence[str], counts: Sequence[float], expected: Sequence[float] | None = None
) -> go.Figure:
    """Horizontal bars (largest on top), with what a normal week would have given where known."""
    fig = go.Figure()
    ys = [escaped(label) for label in labels][::-1]
    fig.add_trace(go.Bar(y=ys, x=list(counts)[::-1], orientation="h", name=t("chart.observed"), marker_color="#E45756"))
    if expected is not None:
        fig.add_trace(
            go.Bar(y=ys, x=list(expected)[::-1], orientation="h", name=t("chart.expected"), marker_color="#B8B8B8")
        )
    fig.update_layout(
        height=max(160, 34 * len(labels) + 60),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        barmode="group",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        showlegend=expected is not None,
    )
    return fig
