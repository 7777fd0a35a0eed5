"""报告 / Reports: the review-summary report for a period and the sidebar's scope (brands,
products, sources): a preview of the report itself, and downloads as HTML and PDF.

The report is reports/'s own (facts from storage, one template); this page only picks the
period and shows it. The preview is the report's HTML, whose mention text the template has
masked and escaped, in an iframe so its charts run as they do in the downloaded file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from dashboard import data
from dashboard.filters import Filters, current
from dashboard.i18n import configured_aspect_names, current_lang, t
from reports.build import write_report
from reports.facts import ReportRequest, Scope, aspect_names_in, build_facts
from reports.html import render_html
from reports.pdf import PdfError, find_chromium
from reports.period import Period, parse_period

PERIODS = {"filters": "reports.period_filters", "week": "reports.period_week", "month": "reports.period_month"}
PREVIEW_HEIGHT = 1400


def chosen_period(choice: str, f: Filters) -> Period:
    if choice == "filters":
        return Period(f.start_day, f.end_day, f.tz)
    return parse_period(choice, f.tz)


@st.cache_data(ttl=60, max_entries=8, show_spinner=False)
def report_html(db: str, request: ReportRequest) -> str:
    return render_html(build_facts(db, request))


def report_pdf(db: str, request: ReportRequest) -> bytes:
    with tempfile.TemporaryDirectory(prefix="koubei-report-") as tmp:
        return write_report(build_facts(db, request), "pdf", Path(tmp) / "printed.pdf").read_bytes()


def main() -> None:
    st.title(t("reports.title"))
    st.caption(t("reports.intro"))
    f = current()
    if f is None:  # the entrypoint found no data and said so
        return
    db = str(data.db_path())
    lang = current_lang()
    choice = (
        st.segmented_control(
            t("reports.period"),
            options=list(PERIODS),
            format_func=lambda k: t(PERIODS[k]),
            default="filters",
            required=True,
            key="report_period",
        )
        or "filters"
    )
    period = chosen_period(choice, f)
    names = aspect_names_in(configured_aspect_names(), lang)  # the pages' names: the report says what they say
    request = ReportRequest(period, Scope(f.brands, f.products, f.sources), lang, names)
    st.caption(t("reports.scope_note", period=period.label()))
    with st.spinner(t("reports.building")):
        html = report_html(db, request)
    name = f"koubei-report-{period.slug()}"
    left, right = st.columns(2)
    left.download_button(
        t("reports.download_html"),
        data=html.encode("utf-8"),
        file_name=f"{name}.html",
        mime="text/html",
        on_click="ignore",
        key="report_html",
        icon=":material/download:",
    )
    try:
        find_chromium()
    except PdfError as exc:
        right.warning(t("reports.no_pdf"))
        right.text(str(exc))
    else:
        right.download_button(
            t("reports.download_pdf"),
            data=lambda: report_pdf(db, request),
            file_name=f"{name}.pdf",
            mime="application/pdf",
            on_click="ignore",
            key="report_pdf",
            icon=":material/picture_as_pdf:",
        )
    st.iframe(html, height=PREVIEW_HEIGHT)


main()
