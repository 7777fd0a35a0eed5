"""Settings (规则设置): rules and their backtest, brands, routes and channels, edited and saved.

Pick a rule (and, to tune, other thresholds), replay the stored history of the sidebar's
dates and see when the rule would have fired, on a plotly chart; one button saves the tuned
thresholds as the rule. Below, the rules (thresholds in words), brands with their competitors
and queries, routes and channels are edited and saved to the database over koubei.toml
(dashboard/settings_edit.py), with the history of who changed what and when. `koubei watch`
reads the saved settings at its next pass.

The sidebar's filter applies: the replay covers its dates, and lists the firings about its
brands, products and sources (a brand-wide or aspect firing belongs to the brands of the
chosen products; a channel firing to the chosen sources). Nothing is written:
alerts.backtest runs what live detection runs, so what it shows is what the rule would
have raised live. Channel secrets are environment variable names, never values.
"""

from __future__ import annotations

import html
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from alerts.backtest import backtest
from alerts.config import Rule, load_alert_settings
from dashboard import auth, data
from dashboard.charts import TICKS
from dashboard.components import local_times, masked
from dashboard.filters import Filters, current
from dashboard.i18n import scope_value_words, t, t_value
from dashboard.settings_edit import (
    can_change_settings,
    cell_kinds,
    change_words,
    current_tables,
    from_rows,
    rule_value,
    save,
    thresholds_of,
    to_rows,
)
from koubei.errors import ConfigError
from koubei.privacy import mask_pii
from koubei.redaction import redact
from koubei.settings.alerts import ChannelTable, RouteTable
from koubei.settings.effective import load_effective_settings
from koubei.settings.saved import SettingPath, path_text
from koubei.settings.sections import Brand, Topic
from storage import open_store
from storage.settings import settings_history


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def run_backtest(
    db_file: str, rule: str, since: datetime, until: datetime, scope: str, overrides: tuple[tuple[str, float], ...]
) -> dict[str, Any]:
    settings = load_effective_settings(db=data.settings_db(db_file))
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
    """A rule's thresholds in words, not a Python dict: when it fires."""
    bucket = bucket_words(rule.bucket)
    if rule.kind == "negative":
        p = rule.negative
        windows = "、".join(str(w) for w in p.windows)
        return t(
            "settings.thresholds_negative",
            z=p.z_min,
            factor=p.min_factor,
            n=f"{p.min_negatives:g}",
            windows=windows,
            bucket=bucket,
            cooldown=p.cooldown,
        )
    v = rule.volume
    return t("settings.thresholds_volume", z=v.z_min, tail=v.tail_factor, excess=f"{v.min_excess:g}", bucket=bucket)


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


SAVED = "settings_saved_message"  # what the last save did, shown after the rerun it asks for


def saved_now(changes: dict[SettingPath, Any], db: Path | None, actor: str) -> None:
    """Save, or say in place why not (nothing is saved then); on success rerun so every part shows it.
    Refused unless the signed-in role may change settings; saved under the signed-in name."""
    if not auth.require("settings"):
        return
    try:
        changed = save(changes, auth.actor(actor).name, db)
    except ConfigError as exc:
        st.error(t("settings.invalid"))
        st.code(redact(str(exc)), language=None)  # the value typed may be anything: shown as plain text
        return
    what = ", ".join(path_text(path) for path in changes)
    st.session_state[SAVED] = t("settings.saved" if changed else "settings.unchanged", what=what)
    run_backtest.clear()
    st.rerun()


def tune(rule: Rule) -> dict[str, float]:
    """The tuning inputs of the backtest: thresholds to replay with (saved only by the button below them)."""
    overrides: dict[str, float] = {}
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
    return overrides


def replay(f: Filters, rule: Rule, scope: str, overrides: dict[str, float], tz: str) -> None:
    result = run_backtest(str(data.db_path()), rule.name, f.start, f.end, scope, tuple(sorted(overrides.items())))
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
        return
    weeks = max(f.days / 7, 1 / 7)
    st.text(t("settings.firings", n=len(firings), w=len(firings) / weeks))
    keys = list(traces)
    fired = (
        [f"{s}:{b}/{v}" for s, b, v in zip(firings["scope_type"], firings["brand"], firings["scope_value"])]
        if len(firings)
        else []
    )
    keys.sort(key=lambda k: -fired.count(k))
    key = st.selectbox(t("settings.series"), keys, key="settings_series", format_func=mask_pii)
    mine = firings[[k == key for k in fired]] if len(firings) else firings
    st.plotly_chart(chart(traces[key], mine, key, tz), key="settings_chart")
    if len(firings):
        firing_table(firings, tz)


def rule_form(rule: Rule, tables: dict[str, Any], db: Path | None, actor: str, allowed: bool) -> None:
    """Every threshold of the rule's detector, each with what it means, its scopes and bucket."""
    with st.form("settings_rule_form"):
        st.markdown(f"**{t('settings.edit_rule')}**")
        values: dict[str, Any] = {}
        for key, value in thresholds_of(rule).items():
            label = f"{t_value('threshold', key)} ({key})"
            if isinstance(value, tuple):
                text = st.text_input(label, value=", ".join(str(v) for v in value), key=f"settings_th_{key}")
                words = [w.strip() for w in text.replace("，", ",").split(",") if w.strip()]
                values[key] = [int(w) if w.isdigit() else w for w in words]  # a word that is not a number: refused
            elif isinstance(value, str):
                values[key] = st.selectbox(
                    label, ["log", "sqrt"], index=["log", "sqrt"].index(value), key=f"settings_th_{key}"
                )
            else:
                values[key] = st.number_input(label, value=value, key=f"settings_th_{key}")
        scopes = st.multiselect(
            t("settings.col_scopes"),
            ["brand", "product", "source", "aspect"],
            default=list(rule.scopes),
            format_func=lambda v: t_value("scope", v),
            key="settings_rule_scopes",
        )
        submitted = st.form_submit_button(t("settings.save_rule"), disabled=not allowed)
    if submitted:
        value = rule_value(tables, rule, values)
        if sorted(scopes) != sorted(rule.scopes):
            value["scopes"] = scopes
        saved_now({("alerts", "rules", rule.name): value}, db, actor)


def rows_form(
    name: str,
    title: str,
    entries: list[dict[str, Any]],
    table: type,
    path: SettingPath,
    db: Path | None,
    actor: str,
    allowed: bool,
) -> None:
    """One editable table of entries (brands, routes), saved whole."""
    kinds = cell_kinds(table)
    st.subheader(title)
    with st.form(f"settings_{name}_form"):
        edited = st.data_editor(
            to_rows(entries, kinds).rename(columns=lambda k: t_value("field", k)),
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            key=f"settings_{name}_editor",
            disabled=not allowed,
        )
        submitted = st.form_submit_button(t("settings.save_table", what=title), disabled=not allowed)
    if submitted:
        edited.columns = list(kinds)
        before = {str(e.get("name")): e for e in entries}
        saved_now({path: from_rows(edited, kinds, before)}, db, actor)


def channels_form(channels: dict[str, dict[str, Any]], db: Path | None, actor: str, allowed: bool) -> None:
    """The channels, one row each; a changed or new row is saved as that channel's table."""
    kinds = {"name": "text", **cell_kinds(ChannelTable)}
    st.subheader(t("settings.channels"))
    st.caption(t("settings.channels_secrets"))
    entries = [{"name": n, **c} for n, c in channels.items()]
    with st.form("settings_channels_form"):
        edited = st.data_editor(
            to_rows(entries, kinds).rename(columns=lambda k: t_value("field", k)),
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            key="settings_channels_editor",
            disabled=not allowed,
        )
        submitted = st.form_submit_button(t("settings.save_table", what=t("settings.channels")), disabled=not allowed)
    if not submitted:
        return
    edited.columns = list(kinds)
    before = {str(e["name"]): e for e in entries}
    changes: dict[SettingPath, Any] = {}
    for entry in from_rows(edited, kinds, before):
        name = str(entry.get("name"))
        channel = {k: v for k, v in entry.items() if k != "name"}
        was = {k: v for k, v in before.get(name, {}).items() if k != "name"}
        if was == channel:
            continue
        if "url" in was:  # its URL is in koubei.toml (a local receiver): a table saved without it would lose it
            st.error(t("settings.channel_url_in_file", name=name))
            return
        changes[("alerts", "channels", name)] = channel
    if changes:
        saved_now(changes, db, actor)
    else:
        st.info(t("settings.unchanged", what=t("settings.channels")))


def history(db: str, tz: str) -> None:
    st.subheader(t("settings.history"))
    with open_store(db, read_only=True, lock_timeout=data.LOCK_TIMEOUT) as store:
        changes = settings_history(store, limit=50)
    if not changes:
        st.caption(t("settings.history_none"))
        return
    for change in changes:
        at = pd.Timestamp(change.changed_at).tz_localize("UTC").tz_convert(tz)
        # plain text: names and values are the managers' own, but never markdown
        st.text(f"{at:%Y-%m-%d %H:%M} · {change.changed_by} · {path_text(change.path)} · {change_words(change)}")


def rules_table(rules: tuple[Rule, ...]) -> None:
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
                for r in rules
            ]
        ),
        hide_index=True,
        width="stretch",
        key="settings_rules",
    )
    for r in rules:  # in the DOM as well: what each rule means, readable and searchable
        st.caption(f"{r.name}：{thresholds(r)}")


def main() -> None:
    st.header(t("settings.title"))
    st.caption(t("settings.intro"))
    if message := st.session_state.pop(SAVED, None):
        st.success(message)
    f = current()
    if f is None:  # the entrypoint found no data and said so
        return
    tz = data.display_tz()
    db_file = data.db_path()
    db = data.settings_db(db_file)
    allowed = can_change_settings()
    layers, tables = current_tables(db)
    cfg = load_alert_settings(layers.settings)
    actor = st.text_input(t("settings.actor"), value=t("settings.actor_default"), key="settings_actor")
    if not allowed:
        st.info(t("settings.admins_only"))
    c1, c2 = st.columns(2)
    rule_name = c1.selectbox(t("settings.rule"), [r.name for r in cfg.rules], key="settings_rule")
    rule = cfg.rule(rule_name)
    scope = c2.selectbox(
        t("settings.scope"), list(rule.scopes), key="settings_scope", format_func=lambda v: t_value("scope", v)
    )
    st.caption(t("settings.replay_period", first=f"{f.start_day:%Y-%m-%d}", last=f"{f.end_day:%Y-%m-%d}"))
    with st.expander(t("settings.tune"), expanded=True):
        overrides = tune(rule)
        if st.button(t("settings.save_backtest"), key="settings_save_backtest", disabled=not allowed):
            saved_now({("alerts", "rules", rule.name): rule_value(tables, rule, overrides)}, db, actor)
    replay(f, rule, scope, overrides, tz)

    rules_table(cfg.rules)
    rule_form(rule, tables, db, actor, allowed)
    rows_form("brands", t("settings.brands"), list(tables.get("brands", [])), Brand, ("brands",), db, actor, allowed)
    st.caption(t("settings.brands_help"))
    rows_form("topics", t("settings.topics"), list(tables.get("topics", [])), Topic, ("topics",), db, actor, allowed)
    st.caption(t("settings.topics_help"))
    alerts = tables.get("alerts", {})
    routes = list(alerts.get("routes", []))
    rows_form("routes", t("settings.routes"), routes, RouteTable, ("alerts", "routes"), db, actor, allowed)
    channels_form(dict(alerts.get("channels", {})), db, actor, allowed)
    history(db_file, tz)


main()
