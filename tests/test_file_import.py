"""File import: CSV, JSONL, XLSX with a column mapping; malformed files name row and column."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from collectors.file_import import import_file
from koubei.errors import ImportFileError
from storage import count_mentions, open_store

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
