"""Import a company's own exports: CSV, JSONL or XLSX, with a column mapping.

All or nothing: every row is parsed and checked before anything is written,
and the write is one transaction, so a malformed file leaves the database as
it was and the error names the file, row and column. Rows without an id get
one from a hash of their content, so importing the same file twice (or an
export that overlaps the previous one) duplicates nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from koubei.errors import ImportFileError
from koubei.records import Mention, content_id
from storage import Store, upsert_mentions

FIELDS = (
    "native_id",
    "text",
    "published_at",
    "url",
    "author",
    "rating",
    "brand",
    "product",
    "language",
    "likes",
    "reposts",
    "replies",
)
REQUIRED = ("text", "published_at")
# Column names companies' exports commonly use, tried when no mapping is given for a field.
ALIASES: dict[str, tuple[str, ...]] = {
    "native_id": ("native_id", "id", "review_id", "comment_id", "编号", "评论id"),
    "text": ("text", "content", "comment", "review", "body", "message", "内容", "评论", "评价内容", "留言"),
    "published_at": ("published_at", "created_at", "time", "date", "timestamp", "时间", "评论时间", "发布时间", "日期"),
    "url": ("url", "link", "链接"),
    "author": ("author", "user", "nickname", "用户", "昵称"),
    "rating": ("rating", "score", "stars", "评分", "星级"),
    "brand": ("brand", "品牌"),
    "product": ("product", "sku", "商品", "产品"),
    "language": ("language", "lang", "语言"),
    "likes": ("likes", "点赞", "点赞数"),
    "reposts": ("reposts", "shares", "转发", "转发数"),
    "replies": ("replies", "comments", "回复", "回复数"),
}
INTEGER_FIELDS = ("likes", "reposts", "replies")


@dataclass(frozen=True)
class ImportResult:
    source: str
    rows: int
    inserted: int
    updated: int
    unchanged: int


def import_file(
    path: Path,
    source: str,
    mapping: dict[str, str] | None,
    open_store: Callable[[], Store],
    brand: str | None = None,
    product: str | None = None,
    zone: str = "Asia/Shanghai",
) -> ImportResult:
    """Parse the whole file, then merge it in one transaction."""
    mentions = list(parse_file(path, source, mapping or {}, brand=brand, product=product, zone=zone))
    with open_store() as store:
        stored = upsert_mentions(store, mentions)
    return ImportResult(source, len(mentions), stored.inserted, stored.updated, stored.unchanged)


def parse_file(
    path: Path,
    source: str,
    mapping: dict[str, str],
    brand: str | None = None,
    product: str | None = None,
    zone: str = "Asia/Shanghai",
) -> Iterator[Mention]:
    unknown = set(mapping) - set(FIELDS)
    if unknown:
        raise ImportFileError(f"--map names unknown field(s) {', '.join(sorted(unknown))}; fields: {', '.join(FIELDS)}")
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    tz = ZoneInfo(zone)
    rows = _rows(path)
    columns: dict[str, str] | None = None
    for line, row in rows:
        if columns is None:
            columns = _resolve_columns(path, list(row), mapping)
        yield _mention(path, line, row, columns, source, brand, product, tz)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or row number as a person would count it, row) for each data row."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        yield from _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    elif suffix in (".jsonl", ".ndjson"):
        yield from _jsonl_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _xlsx_rows(path)
    else:
        raise ImportFileError(f"{path}: unsupported file type {suffix!r}; use .csv, .tsv, .jsonl or .xlsx")


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{path}: not UTF-8 or GB18030 text")


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(_decode(path), newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise ImportFileError(f"{path}, row 1: {exc}") from exc
    header = [h.strip() for h in header]
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"{path}, row {reader.line_num}: {exc}") from exc
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise ImportFileError(
                f"{path}, row {reader.line_num}: {len(values)} columns where the header has {len(header)}"
            )
        yield reader.line_num, dict(zip(header, values))


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{path}, line {number}, column {exc.colno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise ImportFileError(f"{path}, line {number}: expected a JSON object, got {type(row).__name__}")
        yield number, row


def _xlsx_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a broken zip or sheet
        raise ImportFileError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    try:
        sheet = book.active
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ImportFileError(f"{path}: the sheet is empty")
        names = ["" if h is None else str(h).strip() for h in header]
        for number, values in enumerate(rows, start=2):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            yield number, dict(zip(names, values))
    finally:
        book.close()


def _resolve_columns(path: Path, header: list[str], mapping: dict[str, str]) -> dict[str, str]:
    columns: dict[str, str] = {}
    lowered = {h.lower(): h for h in header}
    for field in FIELDS:
        if field in mapping:
            if mapping[field] not in header:
                raise ImportFileError(
                    f"{path}: --map {field}={mapping[field]}: no column {mapping[field]!r}; columns: {', '.join(header)}"
                )
            columns[field] = mapping[field]
            continue
        for alias in ALIASES[field]:
            if alias.lower() in lowered:
                columns[field] = lowered[alias.lower()]
                break
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise ImportFileError(
            f"{path}: no column for {', '.join(missing)}; map one with --map {missing[0]}=COLUMN "
            f"(columns: {', '.join(header)})"
        )
    return columns


def _mention(
    path: Path,
    line: int,
    row: dict[str, Any],
    columns: dict[str, str],
    source: str,
    brand: str | None,
    product: str | None,
    tz: ZoneInfo,
) -> Mention:
    def value(field: str) -> Any:
        raw = row.get(columns[field]) if field in columns else None
        return raw.strip() if isinstance(raw, str) else raw

    def fail(field: str, problem: str) -> ImportFileError:
        return ImportFileError(f"{path}, row {line}, column {columns[field]!r} ({field}): {problem}")

    text = value("text")
    if text is None or str(text) == "":
        raise fail("text", "empty text")
    published = _parse_time(value("published_at"), tz)
    if published is None:
        raise fail("published_at", f"cannot read {value('published_at')!r} as a date and time")
    numbers: dict[str, Any] = {}
    for field in ("rating", *INTEGER_FIELDS):
        raw = value(field)
        if raw is None or raw == "":
            numbers[field] = None
            continue
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise fail(field, f"{raw!r} is not a number") from None
        if number < 0 or (field == "rating" and number > 10):
            raise fail(field, f"{raw!r} is out of range")
        numbers[field] = int(number) if field in INTEGER_FIELDS else number
    native_id = value("native_id")
    author = value("author")
    return Mention(
        source=source,
        native_id=str(native_id)
        if native_id not in (None, "")
        else content_id(str(text), published.isoformat(), str(author or "")),
        text=str(text),
        published_at=published,
        url=_text_or_none(value("url")),
        author=_text_or_none(author),
        rating=numbers["rating"],
        brand=_text_or_none(value("brand")) or brand,
        product=_text_or_none(value("product")) or product,
        language=_text_or_none(value("language")),
        likes=numbers["likes"],
        reposts=numbers["reposts"],
        replies=numbers["replies"],
        raw={k: (v if isinstance(v, (str, int, float, bool)) or v is None else str(v)) for k, v in row.items()},
    )


def _text_or_none(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _parse_time(value: Any, tz: ZoneInfo) -> datetime | None:
    """ISO 8601, 'YYYY-MM-DD HH:MM[:SS]', 'YYYY/MM/DD ...', epoch seconds or ms, Excel datetimes.
    Times without a zone are in `tz` (the export's own zone, Beijing time by default)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        if number > 1e11:  # milliseconds
            number /= 1000
        return datetime.fromtimestamp(number, UTC)
    else:
        text = str(value).replace("/", "-").replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if moment.year < 1990 or moment > datetime.now(UTC) + timedelta(days=2):
        return None
    return moment.astimezone(UTC)
