"""Rules and backtest: pick a rule (and, to tune, other thresholds), replay the stored
history of the sidebar's dates and see when the rule would have fired, on a plotly chart.

The sidebar's filter applies: the replay covers its dates, and lists the firings about its
brands, products and sources (a brand-wide or aspect firing belongs to the brands of the
chosen products; a channel firing to the chosen sources). Nothing is written:
alerts.backtest runs what live detection runs, so what it shows is what the rule would
have raised live. The rules, routes and channels in force are listed (channel secrets are
environment variable names, never values).
"""

from __future__ import annotations

import html
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from alerts.backtest import backtest
from alerts.config import Rule, load_alert_settings
from dashboard import data
from dashboard.charts import TICKS
from dashboard.components import local_times, masked
from dashboard.filters import Filters, current
from dashboard.i18n import scope_value_words, t, t_value
from koubei.config import load_settings
from koubei.privacy import mask_pii
from storage import open_store


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def run_backtest(
    db_file: str, rule: str, since: datetime, until: datetime, scope: str, overrides: tuple[tuple[str, float], ...]
) -> dict[str, Any]:
    settings = load_settings()
    result = backtest(
        lambda: open_store(db_file, read_only=True, lock_timeout=data.LOCK_TIMEOUT),
        settings,
        rule,
        since,
        until=until,
        scope_type=scope,
        overrides=dict(overrides),
    )
    firings = pd.DataFrame([asdict(f) for f in result.firings])
    return {"firings": firings, "traces": result.traces, "per_week": result.per_week()}


def in_filter(scope_type: str, brand: str, value: str, f: Filters, product_brands: dict[str, str]) -> bool:
    """Whether a firing (or a series) of this scope is about what the sidebar's filter chose."""
    if f.brands and brand not in f.brands:
        return False
    if f.products:
        if scope_type == "product" and value not in f.products:
            return False
        if scope_type != "product" and brand not in {product_brands.get(p) for p in f.products}:
            return False
    return not (f.sources and scope_type == "source" and value not in f.sources)


def bucket_words(bucket: timedelta) -> str:
    """A rule's bucket as "1 小时" / "5 min"."""
    minutes = int(bucket.total_seconds() // 60)
    return t("brief.hours", n=minutes // 60) if minutes % 60 == 0 else t("brief.minutes", n=minutes)


def trace_scope(key: str) -> tuple[str, str, str]:
    """(scope type, brand, value) of a backtest trace's key "product:声浪/声浪P20充电宝"."""
    scope_type, rest = key.split(":", 1)
    brand, value = rest.split("/", 1)
    return scope_type, brand, value


def thresholds(rule: Rule) -> str:
    """A rule's thresholds in words, not a Python dict."""
    if rule.kind == "negative":
        p = rule.negative
        return t("settings.thresholds_negative", z=p.z_min, factor=p.min_factor, n=f"{p.min_negatives:.0f}")
    return t("settings.thresholds_volume", z=rule.volume.z_min, tail=rule.volume.tail_factor)


def chart(trace: dict[str, Any], firings: pd.DataFrame, title: str, tz: str) -> go.Figure:
    times = pd.to_datetime(pd.Series(trace["time"])).dt.tz_localize("UTC").dt.tz_convert(tz)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=times, y=trace["observed"], mode="lines", name=t("settings.observed")))
    if len(firings):
        starts = pd.to_datetime(firings["start"]).dt.tz_localize("UTC").dt.tz_convert(tz)
        index = {ts: i for i, ts in enumerate(times)}
        ys = [trace["observed"][index[s]] if s in index else 0 for s in starts]
        fig.add_trace(
            go.Scatter(
                x=starts,
                y=ys,
                mode="markers",
                name=t("settings.fired"),
                marker={"size": 12, "symbol": "triangle-up", "color": "crimson"},
                hovertext=[
                    t("settings.fired_hover", tier=s, z=f"{z:.1f}")
                    for s, z in zip(firings["severity"], firings["score"])
                ],
            )
        )
        for s, e in zip(firings["start"], firings["end"]):
            fig.add_vrect(
                x0=pd.Timestamp(s).tz_localize("UTC").tz_convert(tz),
                x1=pd.Timestamp(e).tz_localize("UTC").tz_convert(tz),
                fillcolor="crimson",
                opacity=0.12,
                line_width=0,
            )
    # Scope names can come from imported data: escape them for plotly's HTML subset.
    fig.update_xaxes(tickformatstops=TICKS, hoverformat="%Y-%m-%d %H:%M")  # numeric dates in either language
    fig.update_layout(
        title=html.escape(mask_pii(title)),
        height=380,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h"},
    )
    return fig


FIRING_COLUMNS = ["start", "end", "scope_type", "brand", "scope_value", "observed", "expected", "score", "severity"]


def firing_table(firings: pd.DataFrame, tz: str) -> None:
    shown = local_times(masked(firings[FIRING_COLUMNS], ["brand", "scope_value"]), ["start", "end"], tz)
    shown["scope_value"] = [scope_value_words(s, v) for s, v in zip(shown["scope_type"], shown["scope_value"])]
    shown["scope_type"] = shown["scope_type"].map(lambda v: t_value("scope", v))
    col = st.column_config
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key="settings_firings",
        column_config={
            "start": col.DatetimeColumn(t("col.window_start"), format="YYYY-MM-DD HH:mm"),
            "end": col.DatetimeColumn(t("col.window_end"), format="YYYY-MM-DD HH:mm"),
            "scope_type": col.TextColumn(t("col.scope_type")),
            "brand": col.TextColumn(t("col.brand")),
            "scope_value": col.TextColumn(t("col.scope")),
            "observed": col.NumberColumn(t("col.observed"), format="%.0f"),
            "expected": col.NumberColumn(t("col.expected"), format="%.1f"),
            "score": col.NumberColumn("z", format="%.1f"),
            "severity": col.NumberColumn(t("col.severity"), format="%d"),
        },
    )


def main() -> None:
    st.header(t("settings.title"))
    st.caption(t("settings.intro"))
    f = current()
    if f is None:  # the entrypoint found no data and said so
        return
    tz = data.display_tz()
    cfg = load_alert_settings(load_settings())
    names = [r.name for r in cfg.rules]
    c1, c2 = st.columns(2)
    rule_name = c1.selectbox(t("settings.rule"), names, key="settings_rule")
    rule = cfg.rule(rule_name)
    scope = c2.selectbox(
        t("settings.scope"), list(rule.scopes), key="settings_scope", format_func=lambda v: t_value("scope", v)
    )
    st.caption(t("settings.replay_period", first=f"{f.start_day:%Y-%m-%d}", last=f"{f.end_day:%Y-%m-%d}"))
    overrides: dict[str, float] = {}
    with st.expander(t("settings.tune")):
        if rule.kind == "negative":
            overrides["z_min"] = st.number_input(
                t("settings.z_min"), value=float(rule.negative.z_min), step=0.5, key="settings_z"
            )
            overrides["min_factor"] = st.number_input(
                t("settings.min_factor"), value=float(rule.negative.min_factor), step=0.25, key="settings_factor"
            )
            overrides["min_negatives"] = st.number_input(
                t("settings.min_negatives"), value=float(rule.negative.min_negatives), step=1.0, key="settings_min"
            )
        else:
            overrides["z_min"] = st.number_input(
                t("settings.z_min"), value=float(rule.volume.z_min), step=0.5, key="settings_z"
            )
            overrides["tail_factor"] = st.number_input(
                t("settings.tail_factor"), value=float(rule.volume.tail_factor), step=0.1, key="settings_tail"
            )
    result = run_backtest(str(data.db_path()), rule_name, f.start, f.end, scope, tuple(sorted(overrides.items())))
    options = data.filter_options(str(data.db_path()))
    product_brands = {p: brand for brand, products in options["products"].items() for p in products}
    firings: pd.DataFrame = result["firings"]
    if len(firings):
        keep = [
            in_filter(s, b, v, f, product_brands)
            for s, b, v in zip(firings["scope_type"], firings["brand"], firings["scope_value"])
        ]
        firings = firings[keep].reset_index(drop=True)
    traces = {key: trace for key, trace in result["traces"].items() if in_filter(*trace_scope(key), f, product_brands)}
    if not traces:
        st.info(t("settings.none"))
    else:
        weeks = max(f.days / 7, 1 / 7)
        st.text(t("settings.firings", n=len(firings), w=len(firings) / weeks))
        keys = list(traces)
        if len(firings):
            fired = [f"{s}:{b}/{v}" for s, b, v in zip(firings["scope_type"], firings["brand"], firings["scope_value"])]
            keys.sort(key=lambda k: -fired.count(k))
        key = st.selectbox(t("settings.series"), keys, key="settings_series", format_func=mask_pii)
        mine = (
            firings[
                [
                    f"{s}:{b}/{v}" == key
                    for s, b, v in zip(firings["scope_type"], firings["brand"], firings["scope_value"])
                ]
            ]
            if len(firings)
            else firings
        )
        st.plotly_chart(chart(traces[key], mine, key, tz), key="settings_chart")
        if len(firings):
            firing_table(firings, tz)

    st.subheader(t("settings.rules"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("settings.col_rule"): r.name,
                    t("col.kind"): t_value("kind", r.kind),
                    t("settings.col_scopes"): "、".join(t_value("scope", v) for v in r.scopes),
                    t("settings.col_bucket"): bucket_words(r.bucket),
                    t("settings.col_thresholds"): thresholds(r),
                }
                for r in cfg.rules
            ]
        ),
        hide_index=True,
        width="stretch",
        key="settings_rules",
    )
    st.subheader(t("settings.routes"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("settings.col_route"): r.name,
                    t("settings.col_channels"): ", ".join(r.channels),
                    t("col.brand"): ", ".join(r.brands) or t("filters.all"),
                    t("col.kind"): "、".join(t_value("kind", k) for k in r.kinds) or t("filters.all"),
                    t("settings.col_keyword_groups"): ", ".join(r.keyword_groups),
                    t("settings.col_min_tier"): r.min_tier,
                    t("settings.col_quiet_hours"): ""
                    if r.quiet_hours is None
                    else f"{r.quiet_hours[0]:%H:%M}-{r.quiet_hours[1]:%H:%M}",
                }
                for r in cfg.routes
            ]
        ),
        hide_index=True,
        width="stretch",
        key="settings_routes",
    )
    st.subheader(t("settings.channels"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    t("settings.col_channel"): c.name,
                    t("settings.col_type"): c.type,
                    t("settings.col_options"): ", ".join(f"{k}={v}" for k, v in c.options.items() if k != "type"),
                }
                for c in cfg.channels.values()
            ]
        ),
        hide_index=True,
        width="stretch",
        key="settings_channels",
    )


main()
