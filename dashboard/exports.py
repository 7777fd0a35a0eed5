"""The dashboard's downloads: complete exports of the filtered data (reports/exports.py).

CSV: every mention in the filters, streamed (utf-8-sig, so Excel shows Chinese; the last
line says how many rows). Excel: the review summary, every negative mention (no cap) and
the incidents grouped by case, plus an about sheet. Masking, localised headers and
neutralised formula text are the exports' own. Each download opens its own short
connection, like every dashboard read (dashboard/loaders.py), read-write for the one
line it adds to the audit trail: who exported what, from where.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from dashboard.filters import Filters
from dashboard.loaders import LOCK_TIMEOUT
from reports.exports import ExportRequest, write_csv
from reports.facts import Scope
from reports.period import Period
from reports.workbook import write_workbook
from storage import Store, open_store
from storage.audit import record
from storage.users import Actor


def request(f: Filters, what: str, lang: str, label: str | None = None) -> ExportRequest:
    return ExportRequest(
        what, Period(f.start_day, f.end_day, f.tz), Scope(f.brands, f.products, f.sources), lang, label
    )


@contextmanager
def _export_store(db: str, actor: Actor | None, f: Filters, fmt: str) -> Iterator[Store]:
    """The store an export reads; with an actor (the dashboard's downloads) it also audits it."""
    with open_store(db, read_only=actor is None, lock_timeout=LOCK_TIMEOUT) as store:
        yield store
        if actor is not None:
            _audit(store, actor, f, fmt)


def _audit(store: Store, actor: Actor, f: Filters, fmt: str) -> None:
    scope = {"brands": list(f.brands), "products": list(f.products), "sources": list(f.sources)}
    detail = {"format": fmt, "from": str(f.start_day), "to": str(f.end_day), **scope}
    record(store, "export", "mentions", detail, actor.name, actor.origin)


def csv_bytes(db: str, f: Filters, lang: str, actor: Actor | None = None) -> bytes:
    out = io.BytesIO()
    with _export_store(db, actor, f, "csv") as store:
        write_csv(store, request(f, "mentions", lang), out)
    return out.getvalue()


def xlsx_bytes(db: str, f: Filters, lang: str, actor: Actor | None = None) -> bytes:
    sheets = [request(f, "summary", lang), request(f, "mentions", lang, "neg"), request(f, "incidents", lang)]
    out = io.BytesIO()
    with _export_store(db, actor, f, "xlsx") as store:
        write_workbook(store, sheets, out)
    return out.getvalue()
