"""Import a company's own exports: CSV, JSONL or XLSX, with a column mapping.

All or nothing: every row is parsed and checked before anything is written, so
a malformed file leaves the database as it was and the error names the file,
row and column. Both passes stream: the file is read a row at a time, checked
whole, then read again and written in batches of `batch_size` rows, one short
transaction each, so memory and the time the database is held stay the same at
any file size. A run stopped while writing has stored a prefix of the file; the
rerun completes it (a merge). Rows without an id get one from a hash of their
content, so importing the same file twice (or an export that overlaps the
previous one) duplicates nothing.

What each value must be, and the normalisations:
- text, ids, url, author, brand, product, language: text or a number; a list, an
  object or a boolean is an error. NUL characters are dropped from every value.
- published_at: a date and time (ISO 8601, 'YYYY-MM-DD HH:MM[:SS]', 'YYYY/MM/DD ...'),
  an Excel date, or a Unix time in seconds (in milliseconds from 1e11 up); between
  1990 and two days from now. A boolean, NaN or an epoch out of range is an error.
- rating: a finite number from 0 to 10. likes, reposts, replies: finite numbers from
  0 to 10^15, fractions cut off.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from collectors.items import RawFields
from koubei.brands import BrandMatcher
from koubei.errors import ImportFileError
from koubei.records import Mention, content_id
from koubei.settings.sections import Brand, Topic
from koubei.topics import tag_topics, topic_rules
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
BATCH_SIZE = 10_000  # rows per write: about half a second of holding the database
MAX_COUNT = 1e15
ENCODINGS = ("utf-8-sig", "gb18030")  # Excel in China saves CSV as GBK
_CHUNK = 1 << 16  # bytes decoded at a time while the encoding is checked


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
    batch_size: int = BATCH_SIZE,
    brands: Sequence[Brand] = (),
    topics: Sequence[Topic] = (),
) -> ImportResult:
    """Check every row of the file, then merge it in batches of `batch_size` rows. Rows without a
    brand or product get the configured one their text names (koubei/brands.py)."""
    matcher = BrandMatcher.of(brands)
    rules = topic_rules(topics)

    def mentions() -> Iterator[Mention]:
        parsed = parse_file(path, source, mapping or {}, brand=brand, product=product, zone=zone)
        return (matcher.tag(mention) for mention in parsed)

    rows = sum(1 for _ in mentions())  # the check: the first bad row raises before anything is written
    inserted = updated = unchanged = 0
    remaining = mentions()
    while batch := list(islice(remaining, batch_size)):
        with open_store() as store:
            stored = upsert_mentions(store, batch)
            tag_topics(store, rules, batch)
        inserted, updated, unchanged = (
            inserted + stored.inserted,
            updated + stored.updated,
            unchanged + stored.unchanged,
        )
    return ImportResult(source, rows, inserted, updated, unchanged)


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


def _encoding(path: Path) -> str:
    """The first of ENCODINGS the whole file decodes in, read a chunk at a time."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as raw:
                while chunk := raw.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError(f"{path}: not UTF-8 or GB18030 text")


def _text_lines(path: Path) -> IO[str]:
    return path.open(encoding=_encoding(path), newline="")


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with _text_lines(path) as lines:
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
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
    with _text_lines(path) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFileError(f"{path}, line {number}, column {exc.colno}: invalid JSON ({exc.msg})") from exc
            except RecursionError:
                raise ImportFileError(f"{path}, line {number}: JSON nested too deeply") from None
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
        return raw.replace("\x00", "").strip() if isinstance(raw, str) else raw

    def fail(field: str, problem: str) -> ImportFileError:
        return ImportFileError(f"{path}, row {line}, column {columns[field]!r} ({field}): {problem}")

    def text(field: str) -> str | None:
        found = value(field)
        if found is None or isinstance(found, str):
            return found or None
        if isinstance(found, float) and not math.isfinite(found):
            raise fail(field, f"expected text, got {found!r}")
        if isinstance(found, bool) or not isinstance(found, (int, float, datetime)):
            raise fail(field, f"expected text, got {_kind(found)}")
        return str(found)

    body = text("text")
    if body is None:
        raise fail("text", "empty text")
    try:
        published = _parse_time(value("published_at"), tz)
    except ValueError as exc:
        raise fail("published_at", str(exc)) from None
    numbers: dict[str, Any] = {}
    for field in ("rating", *INTEGER_FIELDS):
        try:
            numbers[field] = _number(value(field), 10 if field == "rating" else MAX_COUNT)
        except ValueError as exc:
            raise fail(field, str(exc)) from None
        if field in INTEGER_FIELDS and numbers[field] is not None:
            numbers[field] = int(numbers[field])
    native_id = text("native_id")
    author = text("author")
    return Mention(
        source=source,
        native_id=native_id or content_id(body, published.isoformat(), author or ""),
        text=body,
        published_at=published,
        url=text("url"),
        author=author,
        rating=numbers["rating"],
        brand=text("brand") or brand,
        product=text("product") or product,
        language=text("language"),
        likes=numbers["likes"],
        reposts=numbers["reposts"],
        replies=numbers["replies"],
        # The whole row, less the author's column: the author is stored only as its keyed hash.
        raw=RawFields(keep=tuple(row), personal=(columns["author"],) if "author" in columns else ()).of(row),
    )


def _kind(value: Any) -> str:
    return {bool: "a boolean", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _number(value: Any, most: float) -> float | None:
    """A finite number from 0 to `most`, None when the cell is empty; ValueError says what is wrong."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    if number < 0 or number > most:
        raise ValueError(f"{value!r} is out of range (0 to {most:g})")
    return number


EPOCH_MS_FROM = 1e11  # a Unix time this large is in milliseconds (1e11 s is the year 5138)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def _parse_time(value: Any, tz: ZoneInfo) -> datetime:
    """ISO 8601, 'YYYY-MM-DD HH:MM[:SS]', 'YYYY/MM/DD ...', epoch seconds or ms, Excel datetimes.
    Times without a zone are in `tz` (the export's own zone, Beijing time by default).
    ValueError says why a value is not a time of a mention."""
    if value is None or value == "":
        raise ValueError("empty time")
    if isinstance(value, bool) or not isinstance(value, (str, int, float, datetime)):
        raise ValueError(f"{value!r} is not a time ({_kind(value)})")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) or value.isdigit():
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a time")
        if number > EPOCH_MS_FROM:
            number /= 1000
        try:
            moment = datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"Unix time {value!r} is out of range") from None
    else:
        text = value.replace("/", "-").replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"cannot read {value!r} as a date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    if moment < EARLIEST:
        raise ValueError(f"{value!r} is before 1990")
    if moment > datetime.now(UTC) + timedelta(days=2):
        raise ValueError(f"{value!r} is in the future")
    return moment.astimezone(UTC)
