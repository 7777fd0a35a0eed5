"""总览 / Overview page: KPIs vs the previous period, volume and sentiment over
time with incident markers, open incidents, latest negative mentions, export.

Run by st.navigation from streamlit_app.py, which draws the shared filters
first. Only queries and draws: every number comes from storage.queries via
dashboard.data. Mention text is shown only in st.dataframe cells, masked.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from alerts.cases import Case
from dashboard import auth, charts, compare, data, exports, url
from dashboard.components import local_times, masked
from dashboard.filters import Filters, current
from dashboard.i18n import current_lang, scope_value_words, t, t_value, widget_key
from storage import DatabaseBusy, StorageError
from storage.incidents import Incident

# The URL keeps the code (?bucket=day), the same in either language.
BUCKETS = {"auto": None, "hour": 3600, "6h": 6 * 3600, "day": 86400}
BUCKET_LABELS = {
    "auto": "overview.bucket_auto",
    "hour": "overview.bucket_1h",
    "6h": "overview.bucket_6h",
    "day": "overview.bucket_1d",
}
BUCKET_NAMES = {seconds: name for name, seconds in BUCKETS.items() if seconds}
BUCKET_KEY = "bucket"
TIME_FORMAT = "YYYY-MM-DD HH:mm"


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
    # Cases, as the table below lists them; no arrow: a count of what is open now is not a change.
    cols[3].metric(
        t("overview.kpi_open_cases"),
        len(view.open_cases),
        help=t("overview.kpi_cases_help", incidents=sum(len(c.members) for c in view.open_cases), new=view.new_cases),
        border=True,
    )
    return compare


def case_frame(cases: list[Case[Incident]], tz: str) -> pd.DataFrame:
    """One row per case: its lead's scope with the case's tier, status and overall window,
    how many more incidents the same event raised, and its keywords."""
    rows = [
        {
            "id": case.lead.id,
            "severity": case.severity,
            "kind": t_value("kind", case.lead.kind),
            "brand": case.lead.brand or "",
            "scope_value": scope_value_words(case.lead.scope_type, case.lead.scope_value),
            "related": len(case.related),
            "window_start": case.window[0],
            "window_end": case.window[1],
            "observed": case.lead.observed,
            "expected": case.lead.expected,
            "status": t_value("status", case.status),
            "keywords": "、".join(case.lead.keywords),
        }
        for case in cases
    ]
    frame = masked(pd.DataFrame(rows), ["brand", "scope_value", "keywords"])
    return local_times(frame, ["window_start", "window_end"], tz)


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
    ]
    shown = frame
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
        },
    )
    try:
        return list(event["selection"]["rows"])
    except (KeyError, TypeError):
        return []


def mention_table(frame: pd.DataFrame, key: str, tz: str) -> None:
    """Mentions (untrusted text) in a dataframe: masked text, http(s)-only links, local times."""
    shown = local_times(masked(frame, ["text", "brand", "product", "source"]), ["published_at"], tz)
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


def export_section(db: str, f: Filters, view: data.OverviewData) -> None:
    """Complete exports of the selection, with how many rows each holds (read with the overview) said
    before downloading."""
    lang = current_lang()
    stamp = f"{f.start_day:%Y%m%d}-{f.end_day:%Y%m%d}"
    st.subheader(t("overview.export"))
    st.caption(t("overview.export_rows", mentions=f"{view.export_mentions:,}", negative=f"{view.export_negative:,}"))
    left, right = st.columns(2)
    # Deferred: built only when clicked, on another thread, so the language and who asks are captured now.
    # Audited when someone signed in; without sign-in a download stays the read it always was.
    actor = auth.actor() if auth.current() else None
    left.download_button(
        t("overview.export_csv"),
        data=lambda: exports.csv_bytes(db, f, lang, actor),
        file_name=f"koubei-mentions-{stamp}.csv",
        mime="text/csv",
        on_click="ignore",
        key="export_csv",
        icon=":material/download:",
    )
    right.download_button(
        t("overview.export_xlsx"),
        data=lambda: exports.xlsx_bytes(db, f, lang, actor),
        file_name=f"koubei-summary-{stamp}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key="export_xlsx",
        icon=":material/download:",
    )


def body(db: str, f: Filters, bucket_seconds: int | None, refresh: int) -> None:
    try:
        view = data.overview(db, f.query, bucket_seconds, f.tz)
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
    fig = charts.timeseries_figure(view.series, view.marked_cases, f.tz)
    event = st.plotly_chart(
        fig, key="overview_ts", on_select="rerun", selection_mode=("points",), config={"displaylogo": False}
    )
    bucket = t(BUCKET_LABELS[BUCKET_NAMES[view.bucket_seconds]])
    st.caption(t("overview.chart_hint", bucket=bucket, few=charts.MIN_SCORED))
    if clicked := charts.selected_incident_ids(event):
        url.open_brief(clicked[0])

    st.subheader(t("overview.open_cases"))
    if not view.open_cases:
        st.info(t("overview.no_open_incidents"))
    else:
        rows = incident_table(case_frame(view.open_cases, f.tz), key="overview_open_incidents")
        # (a live refresh can shrink the table under a selection: ignore a row that is gone)
        picked = [r for r in rows if r < len(view.open_cases)]
        if picked:
            url.open_brief(view.open_cases[picked[0]].lead.id)

    st.subheader(t("overview.latest_negative"))
    if view.latest_negative.empty:
        st.info(t("overview.no_negative"))
    else:
        mention_table(view.latest_negative, key="overview_latest_negative", tz=f.tz)

    compare.section(db, f.query, f.brands, bucket_seconds, f.tz)
    export_section(db, f, view)
    loaded = view.loaded_at.astimezone(ZoneInfo(f.tz))
    st.caption(t("overview.updated_at", at=f"{loaded:%Y-%m-%d %H:%M:%S}", every=refresh))


def main() -> None:
    st.title(t("overview.title"))
    f = current()
    if f is None:  # the entrypoint found no data and said so
        return
    db = str(data.db_path())
    key = widget_key(BUCKET_KEY)
    url.seed(BUCKET_KEY, list(BUCKETS), "auto", widget=key)
    choice = (
        st.segmented_control(
            t("overview.bucket"),
            options=list(BUCKETS),
            format_func=lambda k: t(BUCKET_LABELS[k]),
            required=True,
            key=key,
        )
        or "auto"
    )
    url.keep(BUCKET_KEY, choice, "auto")
    refresh = data.refresh_seconds()

    # Live refresh: only this fragment reruns on the timer, not the whole app.
    @st.fragment(run_every=timedelta(seconds=refresh))
    def live() -> None:
        body(db, f, BUCKETS[choice], refresh)

    live()


main()
