"""File import: CSV, JSONL, XLSX with a column mapping; malformed files name row and column."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import openpyxl
import pytest

from collectors.file_import import import_file
from koubei.errors import ImportFileError
from storage import Store, count_mentions, open_store

CSV_TEXT = (
    "评论id,内容,评论时间,评分,昵称\n"
    "a1,物流很快，包装完好,2026-11-01 10:00:00,5,张三\n"
    'a2,"客服不回复，很失望",2026-11-01 11:30:00,1,李四\n'
)


def run_import(path: Path, db: Path, mapping: dict[str, str] | None = None, **kw: object):
    return import_file(path, "crm_export", mapping, lambda: open_store(db), **kw)  # type: ignore[arg-type]


def test_csv_with_chinese_headers_is_mapped_by_alias(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV_TEXT, encoding="utf-8-sig")
    result = run_import(path, db_path, brand="声浪")
    assert (result.rows, result.inserted) == (2, 2)
    with open_store(db_path) as store:
        rows = store.query("SELECT native_id, rating, brand, published_at FROM mentions ORDER BY native_id")
    assert [r[:3] for r in rows] == [("a1", 5.0, "声浪"), ("a2", 1.0, "声浪")]
    assert str(rows[0][3]) == "2026-11-01 02:00:00", "Beijing time is stored as UTC"


def test_importing_twice_duplicates_nothing_even_without_ids(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "noid.csv"
    path.write_text("text,time\n很好用,2026-11-01T10:00:00+08:00\n太差了,1761962400\n", encoding="utf-8")
    assert run_import(path, db_path).inserted == 2
    again = run_import(path, db_path)
    assert (again.inserted, again.unchanged) == (0, 2)


def test_gbk_csv_from_excel_is_read(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(CSV_TEXT.encode("gbk"))
    assert run_import(path, db_path).inserted == 2


def test_jsonl_with_explicit_mapping(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    lines = [{"ticket": "t1", "body": "退款一周还没到", "opened": "2026-11-02 09:00", "stars": 2}]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    result = run_import(
        path, db_path, {"native_id": "ticket", "text": "body", "published_at": "opened", "rating": "stars"}
    )
    assert result.inserted == 1
    with open_store(db_path) as store:
        assert store.query("SELECT native_id, text FROM mentions") == [("t1", "退款一周还没到")]


def test_xlsx_import(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "reviews.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "content", "date", "likes"])
    sheet.append(["x1", "质量不错", "2026-11-03 08:00:00", 12])
    sheet.append([None, None, None, None])  # blank rows in exports are skipped
    sheet.append(["x2", "包装破损", "2026-11-03 09:00:00", 0])
    book.save(path)
    assert run_import(path, db_path).inserted == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bad_date.csv",
            "id,text,time\n1,好,2026-11-01 10:00\n2,差,not a date\n",
            r"row 3, column 'time' \(published_at\)",
        ),
        (
            "bad_rating.csv",
            "id,text,time,rating\n1,好,2026-11-01 10:00,five\n",
            r"row 2, column 'rating'.*not a number",
        ),
        ("ragged.csv", "id,text,time\n1,好,2026-11-01 10:00\n2,差\n", r"row 3: 2 columns where the header has 3"),
        ("empty_text.csv", "id,text,time\n1,,2026-11-01 10:00\n", r"row 2, column 'text'.*empty text"),
        ("no_text.csv", "id,when\n1,2026-11-01\n", r"no column for text, published_at"),
        (
            "broken.jsonl",
            '{"text": "好", "time": "2026-11-01"}\n{"text": "差", "time": \n',
            r"line 2, column \d+: invalid JSON",
        ),
        ("empty.csv", "", r"the file is empty"),
    ],
)
def test_malformed_file_names_the_row_and_column_and_imports_nothing(
    tmp_path: Path, db_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError, match=message) as error:
        run_import(path, db_path)
    assert name in str(error.value)
    with open_store(db_path) as store:
        assert count_mentions(store) == 0, "nothing half-imported"


def test_broken_xlsx_is_a_clear_error(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ImportFileError, match="not a readable XLSX"):
        run_import(path, db_path)


def test_mapping_to_a_missing_column_lists_the_columns(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"no column 'body'; columns: 评论id, 内容"):
        run_import(path, db_path, {"text": "body"})


HOSTILE = [
    ({"time": 1e20}, r"column 'time' \(published_at\): Unix time 1e\+20 is out of range"),
    (
        {"time": "99999999999999999999"},
        r"column 'time' \(published_at\): Unix time '99999999999999999999' is out of range",
    ),
    ({"time": 1e300}, r"column 'time' \(published_at\): Unix time 1e\+300 is out of range"),
    ({"time": 0}, r"column 'time' \(published_at\): 0 is before 1990"),
    ({"time": True}, r"column 'time' \(published_at\): True is not a time \(a boolean\)"),
    ({"time": float("nan")}, r"column 'time' \(published_at\): nan is not a time"),
    ({"likes": 1e30}, r"column 'likes' \(likes\): 1e\+30 is out of range"),
    ({"likes": float("inf")}, r"column 'likes' \(likes\): inf is not a finite number"),
    ({"likes": "nan"}, r"column 'likes' \(likes\): 'nan' is not a finite number"),
    ({"rating": float("nan")}, r"column 'rating' \(rating\): nan is not a finite number"),
    ({"text": ["好", "评"]}, r"column 'text' \(text\): expected text, got a list"),
    ({"text": {"a": 1}}, r"column 'text' \(text\): expected text, got an object"),
    ({"author": True}, r"column 'author' \(author\): expected text, got a boolean"),
    ({"text": "\x00\x00"}, r"column 'text' \(text\): empty text"),
]


@pytest.mark.parametrize(("change", "message"), HOSTILE)
def test_hostile_values_are_a_clear_error_naming_row_and_column(
    tmp_path: Path, db_path: Path, change: dict[str, object], message: str
) -> None:
    """Bug: epochs too large, 1e30/inf/nan counts and 1e300 times raised tracebacks; epoch 0,
    `true` as a time, NaN ratings and a list as text were stored as if they were data."""
    good = {"id": "r1", "text": "物流很快", "time": "2026-11-01 10:00:00", "likes": 3, "rating": 5, "author": "张三"}
    path = tmp_path / "hostile.jsonl"
    # json.dumps writes NaN and Infinity as Python's json reads them back (so do many exporters).
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n" + json.dumps({**good, "id": "r2", **change}) + "\n")
    with pytest.raises(ImportFileError, match=r"hostile.jsonl, row 2, " + message):
        run_import(path, db_path)
    with open_store(db_path) as store:
        assert count_mentions(store) == 0, "nothing half-imported"


def test_json_nested_too_deeply_is_a_clear_error(tmp_path: Path, db_path: Path) -> None:
    """Bug: deeply nested JSONL raised RecursionError."""
    path = tmp_path / "deep.jsonl"
    path.write_text('{"text": "好", "time": "2026-11-01"}\n{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(ImportFileError, match=r"deep.jsonl, line 2: JSON nested too deeply"):
        run_import(path, db_path)


def test_nul_characters_are_dropped(tmp_path: Path, db_path: Path) -> None:
    """Bug: NUL bytes were stored in the text (and in raw), where exports and JSON choke on them."""
    path = tmp_path / "nul.csv"
    path.write_text("id,text,time,user\na\x001,好\x00评,2026-11-01 10:00:00,张\x00三\n", encoding="utf-8")
    run_import(path, db_path)
    with open_store(db_path) as store:
        rows = store.query("SELECT native_id, text, raw::VARCHAR FROM mentions")
    assert [r[:2] for r in rows] == [("a1", "好评")] and "\\u0000" not in rows[0][2] and "\x00" not in rows[0][2]


def _numbered_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("id,text,time,likes\n")
        for i in range(rows):
            out.write(f"r{i},第{i}条评论：物流很快，包装完好，客服回复及时,2026-11-01 10:{i % 60:02d}:00,{i % 7}\n")
    return path


def test_import_writes_in_batches_of_bounded_size(tmp_path: Path, db_path: Path) -> None:
    """Bug: import read the whole file into memory and wrote it in one transaction (1.49 GB for a
    500k-row CSV, the database held for the whole write). Now: one short write per batch."""
    before_each_write: list[int] = []

    def opener() -> Store:
        with open_store(db_path) as peek:
            before_each_write.append(count_mentions(peek))
        return open_store(db_path)

    path = _numbered_csv(tmp_path / "many.csv", 25)
    result = import_file(path, "crm_export", None, opener, batch_size=10)
    assert (result.rows, result.inserted) == (25, 25)
    assert before_each_write == [0, 10, 20]


def _peak_bytes(path: Path, db: Path) -> int:
    tracemalloc.start()
    try:
        import_file(path, "crm_export", None, lambda: open_store(db), batch_size=500)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_import_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """The Python memory an import peaks at is the same for a file four times as long: it streams."""
    small = _peak_bytes(_numbered_csv(tmp_path / "small.csv", 2_000), tmp_path / "small.duckdb")
    large = _peak_bytes(_numbered_csv(tmp_path / "large.csv", 8_000), tmp_path / "large.duckdb")
    assert large < 1.5 * small, f"peak {large:,} bytes for 8,000 rows, {small:,} for 2,000"
