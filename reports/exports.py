"""Complete exports: every matching row, streamed, to CSV, XLSX or JSONL.

Rows come from the engine in Arrow batches (storage/reports.py export_mentions) and
leave in the same batches, so memory stays flat whatever the row count. Nothing is
capped: a file ends by saying how many rows it holds (CSV: a last line starting with
"#"; JSONL: a last object {"koubei_export": {...}}; XLSX: an "about" sheet).

Columns, headers and masking are the dashboard's: text columns are masked
(koubei.privacy.mask_pii), links kept only when http(s), headers and codes in the
chosen language (JSONL keeps field names and codes, for programs). Text that a
spreadsheet would run as a formula stays text: XLSX writes it as a string cell
(nothing added), and CSV, which has no cell types, gets an invisible U+200B in
front, which stops Excel and LibreOffice from reading a formula and shows nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from alerts.cases import Case
from dashboard.i18n import t, t_value
from koubei.privacy import FORMULA_PREFIXES, mask_pii
from reports.facts import Scope, brand_cases, first_response_minutes
from reports.period import Period
from storage import Store, queries
from storage import reports as stored
from storage.incidents import Incident

WHAT = ("mentions", "incidents", "summary")
FORMATS = ("csv", "xlsx", "jsonl")
LABELS = ("pos", "neu", "neg")
CSV_GUARD = "\u200b"  # zero width space: not shown, and a cell starting with it is no formula
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included: longer exports continue on another sheet
BATCH_ROWS = 20_000
UNTRUSTED = ("text", "masked")  # column kinds whose text comes from outside koubei


@dataclass(frozen=True)
class Column:
    name: str  # the field in storage's rows and in JSONL
    header: str  # dashboard/strings.py key of the header
    # text (from a site or a file: guarded in CSV), masked (the same, PII masked too), words (koubei's
    # own vocabulary: aspects), url (http(s) only), time, number, code:<t_value family>
    kind: str = "text"
    width: int = 12  # XLSX column width, in characters


MENTION_COLUMNS = (
    Column("published_at", "col.time", "time", 17),
    Column("source", "col.source", "text", 14),
    Column("native_id", "col.id", "text", 20),
    Column("brand", "col.brand", "masked", 10),
    Column("product", "col.product", "masked", 16),
    Column("text", "col.text", "masked", 70),
    Column("url", "col.link", "url", 30),
    Column("score", "col.score", "number", 9),
    Column("label", "col.label", "code:label", 8),
    Column("rating", "col.rating", "number", 7),
    Column("likes", "col.likes", "number", 8),
    Column("reposts", "col.reposts", "number", 8),
    Column("replies", "col.replies", "number", 8),
    Column("aspects", "col.aspects", "words", 22),
    Column("urgency", "col.urgency", "number", 8),
    Column("excluded", "col.excluded", "code:excluded", 14),
)
SUMMARY_COLUMNS = (
    Column("brand", "col.brand", "masked", 10),
    Column("product", "col.product", "masked", 16),
    Column("source", "col.source", "text", 14),
    Column("mentions", "col.mentions", "number", 9),
    Column("scored", "col.scored", "number", 9),
    Column("avg_score", "col.score", "number", 9),
    Column("positive", "col.positive", "number", 8),
    Column("neutral", "col.neutral", "number", 8),
    Column("negative", "col.negative", "number", 8),
    Column("negative_share", "col.negative_share", "number", 10),
    Column("avg_rating", "col.avg_rating", "number", 9),
    Column("reach", "col.reach", "number", 9),
    Column("first_at", "col.first", "time", 17),
    Column("last_at", "col.last", "time", 17),
)
INCIDENT_COLUMNS = (
    Column("case", "col.case", "number", 6),
    Column("case_tier", "col.case_tier", "number", 8),
    Column("severity", "col.severity", "number", 6),
    Column("kind", "col.kind", "code:kind", 10),
    Column("scope_type", "col.scope_type", "code:scope", 8),
    Column("brand", "col.brand", "masked", 10),
    Column("scope_value", "col.scope", "masked", 18),
    Column("window_start", "col.window_start", "time", 17),
    Column("window_end", "col.window_end", "time", 17),
    Column("peak_at", "col.peak", "time", 17),
    Column("observed", "col.observed", "number", 9),
    Column("expected", "col.expected", "number", 9),
    Column("status", "col.status", "code:status", 9),
    Column("first_response_min", "col.first_response", "number", 10),
    Column("keywords", "col.keywords", "masked", 30),
    Column("id", "col.id", "text", 18),
)
COLUMNS = {"mentions": MENTION_COLUMNS, "incidents": INCIDENT_COLUMNS, "summary": SUMMARY_COLUMNS}


@dataclass(frozen=True)
class ExportRequest:
    what: str
    period: Period
    scope: Scope = Scope()
    lang: str = "zh"
    label: str | None = None  # mentions only: pos | neu | neg

    def __post_init__(self) -> None:
        if self.what not in WHAT:
            raise ValueError(f"what must be one of {WHAT}, not {self.what!r}")
        if self.label is not None and self.label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {self.label!r}")

    @property
    def filter(self) -> queries.MentionFilter:
        return self.scope.filter(self.period)


# ------------------------------------------------------------------ cells


def safe_urls(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Links kept only when http or https (javascript:, data: ... become empty)."""
    plain = pc.fill_null(pc.match_substring_regex(values, r"(?i)^\s*https?://"), False)
    return pc.if_else(plain, values, pa.scalar(None, pa.string()))


# Stored codes in words, by family (each named literally, so the string table's test sees it).
CODE_WORDS: dict[str, Callable[[object, str], str]] = {
    "label": lambda code, lang: t_value("label", code, lang),
    "kind": lambda code, lang: t_value("kind", code, lang),
    "scope": lambda code, lang: t_value("scope", code, lang),
    "status": lambda code, lang: t_value("status", code, lang),
    "action": lambda code, lang: t_value("action", code, lang),
    "excluded": lambda code, lang: t_value("excluded", code, lang),
}


def translate(values: pa.Array | pa.ChunkedArray, family: str, lang: str) -> pa.Array:
    """Stored codes (labels, kinds, statuses) in words, translated once per distinct code."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    words = pa.array([CODE_WORDS[family](code, lang) for code in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(words, encoded.indices)


# mask_pii changes only text holding an "@" (e-mail) or a run of at least seven digits (the
# shortest phone, ID or card number it masks has more); rows without either are passed over
# in Arrow, which spares a million Python calls. tests/reports/test_exports.py checks that
# mask_pii indeed leaves such text alone, so a new kind of masking cannot slip past this.
MASK_MIN_DIGITS = 7
_FORMULA_START = "^(?:" + "|".join(re.escape(p) for p in FORMULA_PREFIXES) + ")"


def might_hold_pii(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    digits = pc.count_substring_regex(values, r"\p{Nd}")
    flagged = pc.or_(pc.greater_equal(digits, MASK_MIN_DIGITS), pc.match_substring(values, "@"))
    return pc.fill_null(flagged, False)


def mask_column(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A string column with koubei.privacy.mask_pii applied to every value."""
    flagged = might_hold_pii(values)
    if not pc.any(flagged).as_py():
        return values
    masked = [mask_pii(v) for v in pc.filter(values, flagged).to_pylist()]
    return pc.replace_with_mask(values, flagged, pa.array(masked, pa.string()))


def guard_formulas(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """CSV cells that a spreadsheet would run as a formula, made plain text without a visible mark."""
    starts = pc.fill_null(pc.match_substring_regex(values, _FORMULA_START), False)
    return pc.if_else(starts, pc.binary_join_element_wise(CSV_GUARD, values, ""), values)


def prepare(batch: pa.RecordBatch | pa.Table, columns: Sequence[Column], lang: str | None) -> pa.Table:
    """A batch as exported: text masked, unsafe links dropped, codes in words (lang None keeps codes)."""
    out: dict[str, pa.Array | pa.ChunkedArray] = {}
    for column in columns:
        values = batch.column(column.name)
        if column.kind == "masked":
            values = mask_column(values.cast(pa.string()))
        elif column.kind == "url":
            values = safe_urls(values.cast(pa.string()))
        elif column.kind.startswith("code:") and lang is not None:
            values = translate(values.cast(pa.string()), column.kind.split(":", 1)[1], lang)
        elif column.kind == "number" and pa.types.is_floating(values.type):
            values = pc.round(values, 4)  # scores and shares: four places are plenty in a sheet
        out[column.name] = values
    return pa.table(out)


# ------------------------------------------------------------------ rows


def _mention_batches(store: Store, request: ExportRequest) -> Iterator[pa.RecordBatch]:
    reader = stored.export_mentions(store, request.filter, request.period.tz, request.label, BATCH_ROWS)
    yield from reader


def incident_rows(store: Store, request: ExportRequest) -> pa.Table:
    """Incidents of the period by case, the most severe case first, each case's lead first."""
    incidents = stored.period_incidents(store, request.period.start, request.period.end, request.scope.brands)
    cases: list[Case[Incident]] = sorted(brand_cases(store, incidents), key=lambda c: (-c.severity, c.window[0]))
    rows = []
    for number, case in enumerate(cases, 1):
        minutes = first_response_minutes(case)
        for member in case.members:
            rows.append(
                {
                    "case": number,
                    "case_tier": case.severity,
                    **{c.name: getattr(member, c.name) for c in INCIDENT_COLUMNS if hasattr(member, c.name)},
                    "keywords": "、".join(member.keywords),
                    "first_response_min": round(minutes, 1) if minutes is not None else None,
                }
            )
    table = pa.Table.from_pylist(rows, schema=_incident_schema())
    return _local_times(table, request.period.tz)


def _incident_schema() -> pa.Schema:
    types = {"number": pa.float64(), "time": pa.timestamp("us")}
    return pa.schema([(c.name, types.get(c.kind, pa.string())) for c in INCIDENT_COLUMNS])


def _local_times(table: pa.Table, tz: str) -> pa.Table:
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            local = pc.local_timestamp(
                table.column(i).cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz=tz))
            )
            table = table.set_column(i, field.name, local)
    return table


def summary_rows(store: Store, request: ExportRequest) -> pa.Table:
    frame = queries.review_summary(store, request.filter)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return _local_times(table, request.period.tz)


def batches(store: Store, request: ExportRequest) -> Iterator[pa.RecordBatch | pa.Table]:
    """The rows of an export, as stored (before `prepare`)."""
    if request.what == "mentions":
        yield from _mention_batches(store, request)
    elif request.what == "incidents":
        yield incident_rows(store, request)
    else:
        yield summary_rows(store, request)


def count_rows(store: Store, request: ExportRequest) -> int:
    """How many rows an export of `request` holds (for the dashboard to say before downloading)."""
    if request.what == "mentions":
        return stored.count_export_mentions(store, request.filter, request.label)
    return sum(len(b) for b in batches(store, request))


# ------------------------------------------------------------------ writers


def headers(columns: Sequence[Column], lang: str) -> list[str]:
    return [t(c.header, lang) for c in columns]


def describe(request: ExportRequest, rows: int) -> str:
    scope = request.scope
    parts = [f"{t('col.brand', request.lang)}={'、'.join(scope.brands)}"] if scope.brands else []
    parts += [f"{t('col.product', request.lang)}={'、'.join(scope.products)}"] if scope.products else []
    parts += [f"{t('col.source', request.lang)}={'、'.join(scope.sources)}"] if scope.sources else []
    parts += (
        [f"{t('col.label', request.lang)}={t_value('label', request.label, request.lang)}"] if request.label else []
    )
    return t(
        "export.trailer",
        request.lang,
        rows=rows,
        what=t_value("export", request.what, request.lang),
        period=request.period.label(),
        scope="; ".join(parts) or t("report.scope_all", request.lang),
    )


def write_csv(store: Store, request: ExportRequest, out: BinaryIO) -> int:
    columns = COLUMNS[request.what]
    out.write("\ufeff".encode())  # utf-8-sig: Excel then reads the file as UTF-8
    schema = pa.schema([(c.name, pa.string() if c.kind != "number" else pa.float64()) for c in columns])
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    out.write(_csv_line(headers(columns, request.lang)))
    rows = 0
    with pacsv.CSVWriter(out, schema, write_options=options) as writer:
        for batch in batches(store, request):
            table = prepare(batch, columns, request.lang)
            cells = {}
            for column in columns:
                values = table.column(column.name)
                if column.kind == "time":
                    seconds = pc.cast(values, pa.timestamp("s"), safe=False)
                    values = pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
                if column.kind in UNTRUSTED:
                    values = guard_formulas(values.cast(pa.string()))
                elif column.kind == "number":
                    values = values.cast(pa.float64())
                else:  # koubei's own words, times and http(s) links start with no formula character
                    values = values.cast(pa.string())
                cells[column.name] = values
            writer.write_table(pa.table(cells, schema=schema))
            rows += len(table)
    out.write(_csv_line([describe(request, rows)]))
    return rows


def _csv_line(values: list[str]) -> bytes:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue().encode("utf-8")


def write_jsonl(store: Store, request: ExportRequest, out: BinaryIO) -> int:
    columns = COLUMNS[request.what]
    rows = 0
    for batch in batches(store, request):
        table = prepare(batch, columns, None)
        for row in table.to_pylist():
            out.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
            rows += 1
    trailer = {
        "rows": rows,
        "what": request.what,
        "period": [str(request.period.first_day), str(request.period.last_day)],
        "timezone": request.period.tz,
        "brands": list(request.scope.brands),
        "products": list(request.scope.products),
        "sources": list(request.scope.sources),
        "label": request.label,
    }
    out.write(orjson.dumps({"koubei_export": trailer}, option=orjson.OPT_APPEND_NEWLINE))
    return rows


def write(store: Store, request: ExportRequest, fmt: str, out: BinaryIO) -> int:
    """Write the export; returns the rows written."""
    if fmt == "csv":
        return write_csv(store, request, out)
    if fmt == "jsonl":
        return write_jsonl(store, request, out)
    if fmt == "xlsx":
        from reports.workbook import write_workbook

        return write_workbook(store, [request], out)
    raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")


def write_file(store: Store, request: ExportRequest, fmt: str, path: Path) -> int:
    """write() to `path` through a temporary name, so a failed export leaves no half file."""
    partial = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with partial.open("wb") as out:
            rows = write(store, request, fmt, out)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return rows
