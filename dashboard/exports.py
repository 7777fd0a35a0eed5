"""The dashboard's downloads: complete exports of the filtered data (reports/exports.py).

CSV: every mention in the filters, streamed (utf-8-sig, so Excel shows Chinese; the last
line says how many rows). Excel: the review summary, every negative mention (no cap) and
the incidents grouped by case, plus an about sheet. Masking, localised headers and
neutralised formula text are the exports' own. Each download opens its own short
read-only connection, like every dashboard read (dashboard/loaders.py).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import streamlit as st

from dashboard.data import CACHE_TTL
from dashboard.filters import Filters
from dashboard.loaders import LOCK_TIMEOUT
from reports.exports import ExportRequest, count_rows, write_csv
from reports.facts import Scope
from reports.period import Period
from reports.workbook import write_workbook
from storage import open_store


@dataclass(frozen=True)
class RowCounts:
    mentions: int  # the CSV's rows
    negative: int  # the Excel's negative-mentions sheet


def request(f: Filters, what: str, lang: str, label: str | None = None) -> ExportRequest:
    return ExportRequest(
        what, Period(f.start_day, f.end_day, f.tz), Scope(f.brands, f.products, f.sources), lang, label
    )


def row_counts(db: str, f: Filters) -> RowCounts:
    """What the two downloads would hold now (cached like the page's other reads)."""
    return _row_counts(db, f)


@st.cache_data(ttl=CACHE_TTL, max_entries=32, show_spinner=False)
def _row_counts(db: str, f: Filters) -> RowCounts:
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        return RowCounts(
            count_rows(store, request(f, "mentions", "zh")), count_rows(store, request(f, "mentions", "zh", "neg"))
        )


def csv_bytes(db: str, f: Filters, lang: str) -> bytes:
    out = io.BytesIO()
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        write_csv(store, request(f, "mentions", lang), out)
    return out.getvalue()


def xlsx_bytes(db: str, f: Filters, lang: str) -> bytes:
    sheets = [request(f, "summary", lang), request(f, "mentions", lang, "neg"), request(f, "incidents", lang)]
    out = io.BytesIO()
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        write_workbook(store, sheets, out)
    return out.getvalue()
