"""总览 / Overview page: KPIs vs the previous period, volume and sentiment over
time with incident markers, open incidents, latest negative mentions, export.

Run by st.navigation from streamlit_app.py, which draws the shared filters
first. Only queries and draws: every number comes from storage.queries via
dashboard.data. Mention text is shown only in st.dataframe cells, masked.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from alerts.cases import group_cases
from dashboard import charts, data, exports
from dashboard.components import json_list, local_times, masked
from dashboard.filters import Filters, current
from dashboard.i18n import current_lang, t, t_value
from storage import DatabaseBusy, StorageError

BUCKETS = {"auto": None, "1h": 3600, "6h": 6 * 3600, "1d": 86400}
BUCKET_LABELS = {
    "auto": "overview.bucket_auto",
    "1h": "overview.bucket_1h",
    "6h": "overview.bucket_6h",
    "1d": "overview.bucket_1d",
}
TIME_FORMAT = "YYYY-MM-DD HH:mm"


def auto_bucket(days: int) -> int:
    """Hourly up to a week, 6-hourly up to a month, then daily: about 50-200 points."""
    if days <= 7:
        return 3600
    if days <= 31:
        return 6 * 3600
    return 86400


def _delta_pp(current: float | None, previous: float | None) -> str | None:
    if current is None or previous is None:
        return None
    return f"{(current - previous) * 100:+.1f} pp"


def _delta_num(current: float | None, previous: float | None, digits: int = 2) -> float | None:
    if current is None or previous is None:
        return None
    return round(current - previous, digits)


def render_kpis(view: data.OverviewData) -> bool:
    """The four cards; deltas only when the previous period has data to compare with
    (before the first stored mention every delta would just repeat the value).
    Returns whether deltas were shown."""
    cur, prev = view.current, view.previous
    compare = prev.mentions > 0
    cols = st.columns(4)
    cols[0].metric(
        t("overview.kpi_mentions"),
        f"{cur.mentions:,}",
        delta=cur.mentions - prev.mentions if compare else None,
        help=t("overview.kpi_mentions_help"),
        border=True,
    )
    cols[1].metric(
        t("overview.kpi_avg_sentiment"),
        "—" if cur.avg_score is None else f"{cur.avg_score:.2f}",
        delta=_delta_num(cur.avg_score, prev.avg_score) if compare else None,
        help=t("overview.kpi_avg_help"),
        border=True,
    )
    share = cur.negative_share
    cols[2].metric(
        t("overview.kpi_negative_share"),
        "—" if share is None else f"{share:.1%}",
        delta=_delta_pp(share, prev.negative_share) if compare else None,
        delta_color="inverse",
        help=t("overview.kpi_neg_help"),
        border=True,
    )
    incidents_delta = view.incidents_this_period - view.incidents_previous_period
    cols[3].metric(
        t("overview.kpi_open_incidents"),
        view.open_incidents_now,
        delta=incidents_delta if compare else None,
        delta_color="inverse",
        help=t("overview.kpi_inc_help"),
        border=True,
    )
    return compare


def _incident_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = local_times(frame, ["window_start", "window_end", "peak_at"])
    out["kind"] = out["kind"].map(lambda v: t_value("kind", v))
    out["status"] = out["status"].map(lambda v: t_value("status", v))
    out["keywords"] = out["keywords"].map(json_list)
    return masked(out, ["scope_value", "keywords"])


def open_cases(incidents: pd.DataFrame) -> pd.DataFrame:
    """One row per case (alerts/cases.py): its lead incident with the case's tier, status
    and overall window, and how many more incidents the same event raised."""
    if incidents.empty:
        return incidents
    return pd.DataFrame(
        [
            {
                **case.lead._asdict(),
                "severity": case.severity,
                "status": case.status,
                "window_start": case.window[0],
                "window_end": case.window[1],
                "related": len(case.related),
                "mention_count": sum(int(m.mention_count or 0) for m in case.members),
            }
            for case in group_cases(list(incidents.itertuples(index=False)))
        ]
    )


def incident_table(frame: pd.DataFrame, key: str) -> list[int]:
    """Open incidents as a table; returns the selected row positions."""
    columns = [
        "severity",
        "kind",
        "brand",
        "scope_value",
        "related",
        "window_start",
        "window_end",
        "observed",
        "expected",
        "status",
        "keywords",
        "mention_count",
    ]
    shown = _incident_frame(frame)
    event = st.dataframe(
        shown,
        key=key,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        column_order=[c for c in columns if c in shown.columns],
        column_config={
            "severity": st.column_config.NumberColumn(t("col.severity"), format="%d"),
            "kind": st.column_config.TextColumn(t("col.kind")),
            "brand": st.column_config.TextColumn(t("col.brand")),
            "scope_value": st.column_config.TextColumn(t("col.scope")),
            "related": st.column_config.NumberColumn(t("col.related"), format="+%d", help=t("overview.related_help")),
            "window_start": st.column_config.DatetimeColumn(t("col.window_start"), format=TIME_FORMAT),
            "window_end": st.column_config.DatetimeColumn(t("col.window_end"), format=TIME_FORMAT),
            "observed": st.column_config.NumberColumn(t("col.observed"), format="%.3g"),
            "expected": st.column_config.NumberColumn(t("col.expected"), format="%.3g"),
            "status": st.column_config.TextColumn(t("col.status")),
            "keywords": st.column_config.TextColumn(t("col.keywords")),
            "mention_count": st.column_config.NumberColumn(t("col.mentions"), format="%d"),
        },
    )
    try:
        return list(event["selection"]["rows"])
    except (KeyError, TypeError):
        return []


def mention_table(frame: pd.DataFrame, key: str) -> None:
    """Mentions (untrusted text) in a dataframe: masked text, http(s)-only links, local times."""
    shown = local_times(masked(frame, ["text", "brand", "product", "source"]), ["published_at"])
    if "label" in shown.columns:
        shown["label"] = shown["label"].map(lambda v: t_value("label", v))
    columns = [
        "rank",
        "published_at",
        "brand",
        "product",
        "source",
        "text",
        "score",
        "label",
        "rating",
        "likes",
        "reposts",
        "replies",
        "url",
    ]
    st.dataframe(
        shown,
        key=key,
        hide_index=True,
        column_order=[c for c in columns if c in shown.columns],
        column_config={
            "rank": st.column_config.NumberColumn(t("col.rank"), format="%d"),
            "published_at": st.column_config.DatetimeColumn(t("col.time"), format=TIME_FORMAT),
            "brand": st.column_config.TextColumn(t("col.brand")),
            "product": st.column_config.TextColumn(t("col.product")),
            "source": st.column_config.TextColumn(t("col.source")),
            "text": st.column_config.TextColumn(t("col.text"), width="large"),
            "score": st.column_config.ProgressColumn(t("col.score"), min_value=0.0, max_value=1.0, format="%.2f"),
            "label": st.column_config.TextColumn(t("col.label")),
            "rating": st.column_config.NumberColumn(t("col.rating"), format="%.1f"),
            "likes": st.column_config.NumberColumn(t("col.likes"), format="%d"),
            "reposts": st.column_config.NumberColumn(t("col.reposts"), format="%d"),
            "replies": st.column_config.NumberColumn(t("col.replies"), format="%d"),
            "url": st.column_config.LinkColumn(t("col.link"), display_text=t("overview.open_link")),
        },
    )


def render_incident_detail(db: str, incident_id: str) -> None:
    incident, drivers = data.incident_detail(db, incident_id)
    if incident is None:
        return
    st.subheader(t("overview.selected_incident"))
    one = pd.DataFrame([incident])
    one["mention_count"] = len(drivers)
    incident_table(one, key="overview_incident_detail")
    st.markdown(f"**{t('overview.incident_drivers')}**")
    mention_table(drivers, key="overview_incident_mentions")


def export_section(db: str, f: Filters) -> None:
    """Complete exports of the selection, with how many rows each holds said before downloading."""
    lang = current_lang()
    stamp = f"{f.start_day:%Y%m%d}-{f.end_day:%Y%m%d}"
    st.subheader(t("overview.export"))
    counts = exports.row_counts(db, f)
    st.caption(t("overview.export_rows", mentions=f"{counts.mentions:,}", negative=f"{counts.negative:,}"))
    left, right = st.columns(2)
    # Deferred: built only when clicked, on another thread, so the language is captured now.
    left.download_button(
        t("overview.export_csv"),
        data=lambda: exports.csv_bytes(db, f, lang),
        file_name=f"koubei-mentions-{stamp}.csv",
        mime="text/csv",
        on_click="ignore",
        key="export_csv",
        icon=":material/download:",
    )
    right.download_button(
        t("overview.export_xlsx"),
        data=lambda: exports.xlsx_bytes(db, f, lang),
        file_name=f"koubei-summary-{stamp}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key="export_xlsx",
        icon=":material/download:",
    )


def body(db: str, f: Filters, bucket_seconds: int, refresh: int) -> None:
    try:
        view = data.overview(db, f.start, f.end, f.brands, f.products, f.sources, bucket_seconds)
    except DatabaseBusy:
        st.warning(t("app.database_busy"))
        return
    except StorageError as exc:
        st.error(t("app.cannot_read"))
        st.text(str(exc))
        return

    compared = render_kpis(view)
    prev_first = f.start_day - timedelta(days=f.days)
    prev_last = f.start_day - timedelta(days=1)
    note = "overview.period_note" if compared else "overview.period_empty"
    st.caption(t(note, prev=f"{prev_first:%Y-%m-%d} – {prev_last:%Y-%m-%d}"))

    st.subheader(t("overview.chart_title"))
    fig = charts.timeseries_figure(view.series, view.markers, data.DISPLAY_TZ)
    event = st.plotly_chart(
        fig, key="overview_ts", on_select="rerun", selection_mode=("points",), config={"displaylogo": False}
    )
    st.caption(t("overview.chart_hint"))
    clicked = charts.selected_incident_ids(event)

    st.subheader(t("overview.open_incidents"))
    cases = open_cases(view.open_incidents)
    if cases.empty:
        st.info(t("overview.no_open_incidents"))
        rows: list[int] = []
    else:
        rows = incident_table(cases, key="overview_open_incidents")
    # (a live refresh can shrink the table under a selection: ignore a row that is gone)
    picked = [r for r in rows if r < len(cases)]
    chosen = clicked[0] if clicked else (str(cases.iloc[picked[0]]["id"]) if picked else None)
    if chosen:
        render_incident_detail(db, chosen)

    st.subheader(t("overview.latest_negative"))
    if view.latest_negative.empty:
        st.info(t("overview.no_negative"))
    else:
        mention_table(view.latest_negative, key="overview_latest_negative")

    export_section(db, f)
    loaded = view.loaded_at.astimezone(pd.Timestamp.now(tz=data.DISPLAY_TZ).tzinfo)
    st.caption(t("overview.updated_at", at=f"{loaded:%Y-%m-%d %H:%M:%S}", every=refresh))


def main() -> None:
    st.title(t("overview.title"))
    f = current()
    if f is None:  # the entrypoint found no data and said so
        return
    db = str(data.db_path())
    choice = (
        st.segmented_control(
            t("overview.bucket"),
            options=list(BUCKETS),
            format_func=lambda k: t(BUCKET_LABELS[k]),
            default="auto",
            required=True,
            key="bucket",
            bind="query-params",
        )
        or "auto"
    )
    bucket_seconds = BUCKETS[choice] or auto_bucket(f.days)
    refresh = data.refresh_seconds()

    # Live refresh: only this fragment reruns on the timer, not the whole app.
    @st.fragment(run_every=timedelta(seconds=refresh))
    def live() -> None:
        body(db, f, bucket_seconds, refresh)

    live()


main()
