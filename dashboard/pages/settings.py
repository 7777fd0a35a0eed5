"""Rules and backtest: pick a rule and a since-date (and, to tune, other thresholds),
replay the stored history and see when the rule would have fired, on a plotly chart.

Nothing is written: alerts.backtest replays causally, so what it shows is what the
rule would have raised live. The rules, routes and channels in force are listed
(channel secrets are environment variable names, never values).
"""

from __future__ import annotations

import html
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from alerts.backtest import backtest
from alerts.config import load_alert_settings
from dashboard import data
from dashboard.components import masked
from dashboard.i18n import t
from koubei.config import load_settings
from koubei.privacy import mask_pii
from storage import open_store


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def run_backtest(
    db_file: str, rule: str, since: date, scope: str, overrides: tuple[tuple[str, float], ...]
) -> dict[str, Any]:
    settings = load_settings()
    result = backtest(
        lambda: open_store(db_file, read_only=True, lock_timeout=data.LOCK_TIMEOUT),
        settings,
        rule,
        datetime.combine(since, datetime.min.time()),
        scope_type=scope,
        overrides=dict(overrides),
    )
    firings = pd.DataFrame([asdict(f) for f in result.firings])
    return {"firings": firings, "traces": result.traces, "per_week": result.per_week()}


def chart(trace: dict[str, Any], firings: pd.DataFrame, title: str) -> go.Figure:
    times = pd.to_datetime(pd.Series(trace["time"])).dt.tz_localize("UTC").dt.tz_convert(data.DISPLAY_TZ)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=times, y=trace["observed"], mode="lines", name=t("settings.observed")))
    if len(firings):
        starts = pd.to_datetime(firings["start"]).dt.tz_localize("UTC").dt.tz_convert(data.DISPLAY_TZ)
        index = {ts: i for i, ts in enumerate(times)}
        ys = [trace["observed"][index[s]] if s in index else 0 for s in starts]
        fig.add_trace(
            go.Scatter(
                x=starts,
                y=ys,
                mode="markers",
                name=t("settings.fired"),
                marker={"size": 12, "symbol": "triangle-up", "color": "crimson"},
                hovertext=[f"tier {s} · z {z:.1f}" for s, z in zip(firings["severity"], firings["score"])],
            )
        )
        for s, e in zip(firings["start"], firings["end"]):
            fig.add_vrect(
                x0=pd.Timestamp(s).tz_localize("UTC").tz_convert(data.DISPLAY_TZ),
                x1=pd.Timestamp(e).tz_localize("UTC").tz_convert(data.DISPLAY_TZ),
                fillcolor="crimson",
                opacity=0.12,
                line_width=0,
            )
    # Scope names can come from imported data: escape them for plotly's HTML subset.
    fig.update_layout(
        title=html.escape(mask_pii(title)),
        height=380,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h"},
    )
    return fig


def main() -> None:
    st.header(t("settings.title"))
    st.caption(t("settings.intro"))
    cfg = load_alert_settings(load_settings())
    names = [r.name for r in cfg.rules]
    c1, c2, c3 = st.columns(3)
    rule_name = c1.selectbox(t("settings.rule"), names, key="settings_rule")
    rule = cfg.rule(rule_name)
    since = c2.date_input(t("settings.since"), value=date.today() - timedelta(days=14), key="settings_since")
    scope = c3.selectbox(t("settings.scope"), list(rule.scopes), key="settings_scope")
    overrides: dict[str, float] = {}
    with st.expander(t("settings.tune")):
        if rule.kind == "negative":
            overrides["z_min"] = st.number_input("z_min", value=float(rule.negative.z_min), step=0.5, key="settings_z")
            overrides["min_factor"] = st.number_input(
                "min_factor", value=float(rule.negative.min_factor), step=0.25, key="settings_factor"
            )
            overrides["min_negatives"] = st.number_input(
                "min_negatives", value=float(rule.negative.min_negatives), step=1.0, key="settings_min"
            )
        else:
            overrides["z_min"] = st.number_input("z_min", value=float(rule.volume.z_min), step=0.5, key="settings_z")
            overrides["tail_factor"] = st.number_input(
                "tail_factor", value=float(rule.volume.tail_factor), step=0.1, key="settings_tail"
            )
    result = run_backtest(str(data.db_path()), rule_name, since, scope, tuple(sorted(overrides.items())))
    firings: pd.DataFrame = result["firings"]
    if not result["traces"]:
        st.info(t("settings.none"))
    else:
        st.text(t("settings.firings", n=len(firings), w=result["per_week"]))
        keys = list(result["traces"])
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
        st.plotly_chart(chart(result["traces"][key], mine, key), key="settings_chart")
        if len(firings):
            shown = masked(
                firings[
                    ["start", "end", "scope_type", "brand", "scope_value", "observed", "expected", "score", "severity"]
                ],
                ["brand", "scope_value"],
            )
            st.dataframe(shown, hide_index=True, width="stretch", key="settings_firings")

    st.subheader(t("settings.rules"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "rule": r.name,
                    "kind": r.kind,
                    "scopes": ", ".join(r.scopes),
                    "bucket": str(r.bucket),
                    "thresholds": str(asdict(r.negative if r.kind == "negative" else r.volume)),
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
                    "route": r.name,
                    "channels": ", ".join(r.channels),
                    "brands": ", ".join(r.brands),
                    "kinds": ", ".join(r.kinds),
                    "keyword_groups": ", ".join(r.keyword_groups),
                    "min_tier": r.min_tier,
                    "quiet_hours": ""
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
                    "channel": c.name,
                    "type": c.type,
                    "settings": ", ".join(f"{k}={v}" for k, v in c.options.items() if k != "type"),
                }
                for c in cfg.channels.values()
            ]
        ),
        hide_index=True,
        width="stretch",
        key="settings_channels",
    )


main()
