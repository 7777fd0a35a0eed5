"""数据源 / Sources page: per source whether it is on, when it last ran and what it fetched, the
items per run over time, the last error with what to do about it, and the next scheduled run.

A source that fails is shown first, in red, before anyone wonders why a chart went quiet. The
health and runs are those `koubei sources` reads (storage/health.py); dashboard/sources.py turns
them into rows and advice. Shown whether or not there are mentions (a source that never worked
has none). Error messages are stored redacted and may quote a site: shown with st.code only.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from collectors.base import SourceConfig
from dashboard import charts, data
from dashboard.components import escaped, local_times, when
from dashboard.guarded import read_or_say
from dashboard.i18n import t, t_value
from dashboard.sources import SourceRow, advice_key, heartbeats, plain, runs_frame, source_rows
from koubei.config import load_settings
from koubei.errors import KoubeiError
from storage.health import CollectRun, SourceHealth, recent_runs, source_health

RUNS_SHOWN = 2000  # runs drawn in the chart, newest first
TIME_FORMAT = "YYYY-MM-DD HH:mm"


@st.cache_data(ttl=data.CACHE_TTL, max_entries=1, show_spinner=False)
def configured() -> tuple[list[SourceConfig], str | None]:
    """The [sources.NAME] tables, or none and the error that keeps them from being read."""
    try:
        return list(load_settings().sources.values()), None
    except KoubeiError as exc:
        return [], str(exc)


@st.cache_data(ttl=data.CACHE_TTL, max_entries=4, show_spinner=False)
def health(db: str) -> tuple[list[SourceHealth], list[CollectRun]]:
    with data.reading() as store:
        return source_health(store), recent_runs(store, limit=RUNS_SHOWN)


def status_words(row: SourceRow) -> str:
    if row.health is None or row.health.status is None:
        return t("sources.never_run")
    if row.failing:
        runs = row.health.consecutive_failures or 1
        return t("sources.status_failing", kind=t_value("errorkind", row.health.last_error_kind), runs=runs)
    return t("sources.status_ok")


def enabled_words(row: SourceRow) -> str:
    if row.enabled is None:
        return t("sources.not_configured")
    return t("sources.on") if row.enabled else t("sources.off")


def table_frame(rows: list[SourceRow], now: datetime) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            {
                "source": row.name,
                "kind": row.kind or "",
                "enabled": enabled_words(row),
                "status": status_words(row),
                "last_run_at": row.health.last_run_at if row.health else None,
                "last_success_at": row.health.last_success_at if row.health else None,
                "last_items": row.health.last_items if row.health else None,
                "interval": str(row.interval) if row.interval else "",
                "next_run": row.next_run(now),
            }
            for row in rows
        ]
    )
    return local_times(frame, ["last_run_at", "last_success_at", "next_run"], data.display_tz())


def sources_table(frame: pd.DataFrame) -> None:
    st.dataframe(
        frame,
        key="sources_table",
        hide_index=True,
        column_config={
            "source": st.column_config.TextColumn(t("col.source")),
            "kind": st.column_config.TextColumn(t("sources.col_kind")),
            "enabled": st.column_config.TextColumn(t("sources.col_enabled")),
            "status": st.column_config.TextColumn(t("sources.col_status")),
            "last_run_at": st.column_config.DatetimeColumn(t("sources.col_last_run"), format=TIME_FORMAT),
            "last_success_at": st.column_config.DatetimeColumn(t("sources.col_last_success"), format=TIME_FORMAT),
            "last_items": st.column_config.NumberColumn(t("sources.col_items"), format="%d"),
            "interval": st.column_config.TextColumn(t("sources.col_interval")),
            "next_run": st.column_config.DatetimeColumn(
                t("sources.col_next_run"), format=TIME_FORMAT, help=t("sources.next_run_help")
            ),
        },
    )


def failure(row: SourceRow, tz: str) -> None:
    """A failing source: since when, what kind of failure, what to do, and the message itself."""
    assert row.health is not None
    found = row.health
    with st.container(border=True):
        st.error(
            t(
                "sources.failing",
                source=plain(row.name),
                kind=t_value("errorkind", found.last_error_kind),
                at=when(found.last_error_at, tz),
                runs=found.consecutive_failures or 1,
                success=when(found.last_success_at, tz) or t("sources.never"),
            ),
            icon=":material/error:",
        )
        st.markdown(t(advice_key(found.last_error_kind, found.last_error)))
        st.code(found.last_error or "", language=None, wrap_lines=True)


def runs_figure(runs: pd.DataFrame, tz: str) -> go.Figure:
    """Items per run over time, one line per source; failed runs marked ✕ in red."""
    shown = local_times(runs, ["finished_at"], tz).sort_values("finished_at")
    fig = go.Figure()
    for source, mine in shown.groupby("source", sort=True):
        fig.add_trace(
            go.Scatter(x=mine["finished_at"], y=mine["items"], name=escaped(str(source)), mode="lines+markers")
        )
    failed = shown[shown["status"] == "error"]
    if not failed.empty:
        fig.add_trace(
            go.Scatter(
                x=failed["finished_at"],
                y=failed["items"],
                name=t("sources.failed_runs"),
                mode="markers",
                marker={"symbol": "x", "size": 12, "color": "#C0392B"},
                hovertext=[
                    f"{escaped(s)}: {t_value('errorkind', k)}" for s, k in zip(failed["source"], failed["error_kind"])
                ],
                hoverinfo="text+x",
            )
        )
    fig.update_xaxes(tickformatstops=charts.TICKS, hoverformat="%Y-%m-%d %H:%M")
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"title": t("sources.axis_items"), "rangemode": "tozero"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


def main() -> None:
    st.title(t("sources.title"))
    tz = data.display_tz()
    configs, config_error = configured()
    if config_error:
        st.warning(t("sources.config_error"))
        st.code(config_error, language=None, wrap_lines=True)
    read = read_or_say(lambda: health(str(data.db_path())))
    if read is None:
        return
    found, runs = read
    rows = source_rows(configs, found)
    now = datetime.now(UTC).replace(tzinfo=None)
    failing = [row for row in rows if row.failing]
    cols = st.columns(3)
    cols[0].metric(t("sources.kpi_configured"), sum(1 for r in rows if r.kind is not None), border=True)
    cols[1].metric(t("sources.kpi_enabled"), sum(1 for r in rows if r.enabled), border=True)
    cols[2].metric(t("sources.kpi_failing"), len(failing), border=True)
    beats = heartbeats(found)
    watch = beats.get("koubei-watch")
    st.caption(t("sources.watch_seen", at=when(watch, tz)) if watch else t("sources.watch_never"))
    for row in failing:
        failure(row, tz)
    if not failing and rows:
        st.success(t("sources.all_ok"), icon=":material/check_circle:")
    st.subheader(t("sources.table_title"))
    if not rows:
        st.info(t("sources.none"))
        return
    sources_table(table_frame(rows, now))
    st.subheader(t("sources.runs_title"))
    frame = runs_frame(runs)
    if frame.empty:
        st.info(t("sources.no_runs"))
    else:
        st.plotly_chart(runs_figure(frame, tz), key="sources_runs", config={"displaylogo": False})
        st.caption(t("sources.runs_hint", n=len(frame)))


main()
