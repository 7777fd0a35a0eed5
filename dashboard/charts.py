"""The overview's time-series figure: volume on top, sentiment and negative share
below, incidents shaded and marked. A pure function of frames, so it is tested
without a browser.

Incidents are shaded with add_vrect, but a click on a shape selects nothing in
Streamlit, so incidents also get marker points carrying their ids in
`customdata`; selecting a point tells the page which incident was clicked.
One crisis is usually flagged at once for the brand, the product, an aspect and
several channels; their markers would pile up into one unclickable heap, so
incidents with overlapping windows share one marker: its hover lists them all,
its click selects the lead (alerts.cases.lead_key: the worst tier, then the most specific scope),
and the others are a row click away in the incidents table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from alerts.cases import lead_key, overlapping_groups
from dashboard.components import chart_text, json_list
from dashboard.i18n import t, t_value

INCIDENT_TRACE = "incidents"
KIND_COLORS = {"volume": "rgba(255, 165, 0, 0.18)", "negative": "rgba(220, 20, 60, 0.18)"}
DEFAULT_SHADE = "rgba(128, 128, 128, 0.18)"


def _to_local(values: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(values).dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)


def timeseries_figure(series: pd.DataFrame, markers: pd.DataFrame, tz: str) -> go.Figure:
    """`series` from storage.queries.volume_series (local buckets), `markers` from
    incidents_between (UTC windows)."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.6, 0.4])
    fig.add_trace(
        go.Bar(x=series["bucket"], y=series["mentions"], name=t("chart.series_mentions"), marker_color="#4C78A8"),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=series["bucket"],
            y=series["avg_score"],
            name=t("chart.series_avg"),
            mode="lines",
            line={"color": "#54A24B"},
            connectgaps=False,
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=series["bucket"],
            y=series["negative_share"],
            name=t("chart.series_neg_share"),
            mode="lines",
            line={"color": "#E45756"},
            connectgaps=False,
        ),
        row=2,
        col=1,
    )
    if not markers.empty:
        starts = _to_local(markers["window_start"], tz)
        ends = _to_local(markers["window_end"], tz)
        peaks = _to_local(markers["peak_at"], tz)
        for kind, start, end in merged_windows(markers["kind"], starts, ends):
            fig.add_vrect(
                x0=start,
                x1=end,
                fillcolor=KIND_COLORS.get(kind, DEFAULT_SHADE),
                line_width=0,
                layer="below",
                row="all",
                col=1,
            )
        top = max(float(series["mentions"].max()) if not series.empty else 1.0, 1.0)
        rows = markers.to_dict("records")
        facts = list(markers.itertuples(index=False))
        clusters = [
            sorted(group, key=lambda i: lead_key(facts[i]), reverse=True)
            for group in overlapping_groups(list(zip(starts, ends)))
        ]
        fig.add_trace(
            go.Scatter(
                x=[peaks.iloc[group[0]] for group in clusters],
                y=[top * 1.1] * len(clusters),
                mode="markers+text",
                name=t("chart.series_incidents"),
                uid=INCIDENT_TRACE,
                marker={"symbol": "triangle-down", "size": 16, "color": "#C0392B"},
                text=[f"×{len(group)}" if len(group) > 1 else "" for group in clusters],
                textposition="top center",
                textfont={"color": "#C0392B", "size": 11},
                # lead first: a click selects customdata[0]
                customdata=[[str(rows[i]["id"]) for i in group] for group in clusters],
                hovertext=[_cluster_hover([rows[i] for i in group]) for group in clusters],
                hoverinfo="text",
            ),
            row=1,
            col=1,
        )
        fig.update_yaxes(range=[0, top * 1.28], row=1, col=1)  # room for the markers' "×n" labels
    # Numeric dates, not plotly's English month names, in either language.
    fig.update_xaxes(
        tickformatstops=[
            {"dtickrange": [None, 86_400_000], "value": "%m-%d %H:%M"},
            {"dtickrange": [86_400_000, None], "value": "%m-%d"},
        ],
        hoverformat="%Y-%m-%d %H:%M",
    )
    fig.update_yaxes(title_text=t("chart.axis_volume"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text=t("chart.axis_share"), range=[0, 1], row=2, col=1)
    fig.update_layout(
        height=460,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        bargap=0.1,
        clickmode="event+select",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
    )
    return fig


def merged_windows(kinds: pd.Series, starts: pd.Series, ends: pd.Series) -> list[tuple[str, object, object]]:
    """One shaded span per kind for overlapping windows: a crisis flagged for the brand, the
    product and each channel at once would otherwise stack seven translucent layers into one dark block."""
    spans: list[tuple[str, object, object]] = []
    for kind in sorted(set(kinds)):
        windows = sorted((s, e) for k, s, e in zip(kinds, starts, ends) if k == kind)
        current_start, current_end = windows[0]
        for start, end in windows[1:]:
            if start <= current_end:
                current_end = max(current_end, end)
            else:
                spans.append((kind, current_start, current_end))
                current_start, current_end = start, end
        spans.append((kind, current_start, current_end))
    return spans


MAX_HOVER_LINES = 12


def _cluster_hover(rows: list[dict[str, Any]]) -> str:
    # Scope values and keywords come from mention data: escaped for plotly's HTML subset.
    lines = [_incident_line(row) for row in rows[:MAX_HOVER_LINES]]
    if len(rows) > MAX_HOVER_LINES:
        lines.append(f"+{len(rows) - MAX_HOVER_LINES}")
    keywords = json_list(rows[0].get("keywords"))
    if keywords:
        lines.append(chart_text(keywords))
    return "<br>".join(lines)


def _incident_line(row: dict[str, Any]) -> str:
    return (
        f"{t_value('kind', row['kind'])} · {chart_text(row['scope_value'])} · "
        f"{t('col.observed')} {row['observed']:.3g} / {t('col.expected')} {row['expected']:.3g} · "
        f"{t('col.severity')} {row['severity']} · {t_value('status', row['status'])}"
    )


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
