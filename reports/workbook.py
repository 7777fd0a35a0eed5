"""Exports as an Excel workbook (xlsxwriter, constant memory): one sheet per export, and an
"about" sheet saying what each holds and how many rows.

Headers are localised, bold, frozen and filtered; columns have widths; times are real
Excel dates; every string goes in as a string cell (strings_to_formulas off), so a review
reading "=HYPERLINK(...)" is shown as written and never runs. Incident rows are grouped by
case (Excel's outline: the case's other incidents fold under its lead).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, BinaryIO

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from dashboard.i18n import t
from reports.exports import COLUMNS, XLSX_MAX_ROWS, Column, ExportRequest, batches, describe, headers, prepare
from storage import Store

SHEET_KEYS = {
    "mentions": "export.sheet_mentions",
    "incidents": "export.sheet_incidents",
    "summary": "export.sheet_summary",
}


class _Sheets:
    """Sheets of one export: a new one (name, name (2), ...) each time Excel's row limit is reached."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, columns: Sequence[Column], lang: str) -> None:
        self.book, self.name, self.columns, self.lang = book, name, columns, lang
        self.header = book.add_format({"bold": True, "bg_color": "#F0F4F8", "bottom": 1, "text_wrap": True})
        self.time = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.count = 0
        self.sheet: Worksheet | None = None
        self.row = 0
        self.rows = 0

    def _next(self) -> Worksheet:
        self._close()
        self.count += 1
        name = self.name if self.count == 1 else f"{self.name} ({self.count})"
        sheet = self.book.add_worksheet(name[:31])
        for i, column in enumerate(self.columns):
            sheet.set_column(i, i, column.width)
        sheet.write_row(0, 0, headers(self.columns, self.lang), self.header)
        sheet.freeze_panes(1, 0)
        self.sheet, self.row = sheet, 1
        return sheet

    def _close(self) -> None:
        if self.sheet is not None:
            self.sheet.autofilter(0, 0, max(self.row - 1, 1), len(self.columns) - 1)

    def write(self, values: Sequence[Any], level: int = 0) -> None:
        sheet = self.sheet if self.sheet is not None and self.row < XLSX_MAX_ROWS else self._next()
        for col, (column, value) in enumerate(zip(self.columns, values)):
            if value is None:
                continue
            if column.kind == "time":
                sheet.write_datetime(self.row, col, value, self.time)
            elif column.kind == "number":
                sheet.write_number(self.row, col, value)
            else:
                sheet.write_string(self.row, col, str(value))
        if level:
            sheet.set_row(self.row, None, None, {"level": level})
        self.row += 1
        self.rows += 1

    def finish(self) -> None:
        if self.sheet is None:
            self._next()
        self._close()


def _sheet(book: xlsxwriter.Workbook, store: Store, request: ExportRequest) -> tuple[str, int]:
    columns = COLUMNS[request.what]
    name = t("export.sheet_negative" if request.label == "neg" else SHEET_KEYS[request.what], request.lang)
    sheets = _Sheets(book, name, columns, request.lang)
    case = None
    for batch in batches(store, request):
        table = prepare(batch, columns, request.lang)
        cases = table.column("case").to_pylist() if request.what == "incidents" else [None] * len(table)
        for values, number in zip(zip(*(table.column(c.name).to_pylist() for c in columns)), cases):
            # A case's lead comes first; its other incidents fold under it.
            sheets.write(values, level=1 if number is not None and number == case else 0)
            case = number
    sheets.finish()
    return name, sheets.rows


def write_workbook(store: Store, requests: Sequence[ExportRequest], out: BinaryIO) -> int:
    """One sheet per request, then the about sheet; returns the rows written over all sheets."""
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "in_memory": False,
        },
    )
    written = [(request, *_sheet(book, store, request)) for request in requests]
    lang = requests[0].lang
    about = book.add_worksheet(t("export.sheet_about", lang)[:31])
    about.set_column(0, 0, 24)
    about.set_column(1, 1, 90)
    bold = book.add_format({"bold": True})
    lines = [
        (t("export.about_generated", lang), f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"),
        *((name, describe(request, rows)) for request, name, rows in written),
        (t("export.about_masking", lang), t("export.about_masking_text", lang)),
        (t("export.about_times", lang), t("export.about_times_text", lang, tz=requests[0].period.tz)),
    ]
    for row, (key, value) in enumerate(lines):
        about.write_string(row, 0, key, bold)
        about.write_string(row, 1, value)
    book.close()
    return sum(rows for _, _, rows in written)
