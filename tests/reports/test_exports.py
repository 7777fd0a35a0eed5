"""Complete exports: every matching row (counted against the database) in CSV, XLSX and JSONL,
the dashboard's masking, and a hostile mention as plain text in each format."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koubei.privacy import mask_pii
from reports.exports import CSV_GUARD, MASK_MIN_DIGITS, ExportRequest, count_rows, write_file
from reports.facts import Scope
from reports.period import parse_period
from storage import open_store
from tests.dashboard.conftest import HOSTILE_TEXT, MASKED_PHONE, PHONE

WEEK = parse_period("2026-11-14..2026-11-20")
FORMULA = '=HYPERLINK("http://evil.example","点这里") 充电宝爆炸了，质量太差，退货！'


def _count(db: Path, where: str = "TRUE", params: list[object] | None = None) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(
            con.execute(
                "SELECT count(*) FROM mentions m LEFT JOIN sentiment s USING (source, native_id)"
                f" WHERE m.published_at >= ? AND m.published_at < ? AND {where}",
                [WEEK.start, WEEK.end, *(params or [])],
            ).fetchall()[0][0]
        )


def _export(db: Path, request: ExportRequest, fmt: str, out: Path) -> int:
    with open_store(db, read_only=True) as store:
        return write_file(store, request, fmt, out)


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_csv_holds_every_mention_and_says_how_many(demo_db: Path, tmp_path: Path) -> None:
    total = _count(demo_db)
    assert _export(demo_db, ExportRequest("mentions", WEEK), "csv", tmp_path / "m.csv") == total
    header, *data, trailer = _csv_rows(tmp_path / "m.csv")
    assert header[:3] == ["时间", "来源", "id"] and len(data) == total > 1000
    assert trailer[0].startswith("# koubei") and f"共 {total} 行" in trailer[0]
    times = [datetime.fromisoformat(r[0]) for r in data]
    assert times == sorted(times)  # oldest first
    assert len({(r[1], r[2]) for r in data}) == total  # each mention once


def test_filters_narrow_the_export_exactly(demo_db: Path, tmp_path: Path) -> None:
    request = ExportRequest("mentions", WEEK, Scope(brands=("声浪",), sources=("demo.weibo",)), label="neg")
    expected = _count(demo_db, "m.brand = ? AND m.source = ? AND s.label = 'neg'", ["声浪", "demo.weibo"])
    with open_store(demo_db, read_only=True) as store:
        assert count_rows(store, request) == expected > 50
    assert _export(demo_db, request, "jsonl", tmp_path / "n.jsonl") == expected
    lines = [json.loads(line) for line in (tmp_path / "n.jsonl").read_text(encoding="utf-8").splitlines()]
    *rows, trailer = lines
    assert len(rows) == expected == trailer["koubei_export"]["rows"]
    assert {(r["brand"], r["source"], r["label"]) for r in rows} == {("声浪", "demo.weibo", "neg")}


def test_a_hostile_mention_is_plain_masked_text_in_every_format(demo_db: Path, tmp_path: Path) -> None:
    request = ExportRequest("mentions", WEEK, Scope(sources=("import.csv",)))
    _export(demo_db, request, "csv", tmp_path / "h.csv")
    _export(demo_db, request, "jsonl", tmp_path / "h.jsonl")
    _export(demo_db, request, "xlsx", tmp_path / "h.xlsx")
    masked = mask_pii(HOSTILE_TEXT)
    assert MASKED_PHONE in masked

    header, *data, _ = _csv_rows(tmp_path / "h.csv")
    texts = {r[2]: r[header.index("内容")] for r in data}
    links = {r[2]: r[header.index("链接")] for r in data}
    assert texts["hostile-1"] == masked and links["hostile-1"] == ""  # javascript: link dropped
    assert texts["hostile-2"] == CSV_GUARD + FORMULA  # no formula, and nothing visible added
    raw = (tmp_path / "h.csv").read_text(encoding="utf-8-sig")
    assert PHONE not in raw and "\n=" not in raw and ",=" not in raw and ',"=' not in raw

    rows = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text(encoding="utf-8").splitlines()[:-1]]
    by_id = {r["native_id"]: r for r in rows}
    assert by_id["hostile-1"]["text"] == masked and by_id["hostile-1"]["url"] is None
    assert by_id["hostile-2"]["text"] == FORMULA

    sheet = openpyxl.load_workbook(tmp_path / "h.xlsx").worksheets[0]
    cells = {row[2].value: row[5] for row in sheet.iter_rows(min_row=2)}
    assert cells["hostile-2"].value == FORMULA and cells["hostile-2"].data_type == "s"  # a text cell, no apostrophe
    assert cells["hostile-1"].value == masked


def test_the_workbook_is_ready_to_read(demo_db: Path, tmp_path: Path) -> None:
    """Widths, frozen localised header, filter, real dates, and an about sheet with the row count."""
    total = _count(demo_db, "s.label = 'neg'")
    request = ExportRequest("mentions", WEEK, label="neg", lang="en")
    assert _export(demo_db, request, "xlsx", tmp_path / "w.xlsx") == total
    book = openpyxl.load_workbook(tmp_path / "w.xlsx")
    sheet, about = book["Negative mentions"], book["About"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:P{total + 1}"
    assert [c.value for c in sheet[1]][:6] == ["Time", "Source", "id", "Brand", "Product", "Text"]
    assert sheet.column_dimensions["F"].width > 60
    assert isinstance(sheet["A2"].value, datetime) and sheet["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet.max_row == total + 1
    assert f"{total} rows" in str(about["B2"].value)


def test_incidents_are_grouped_by_case_and_sorted_by_tier(demo_db: Path, tmp_path: Path) -> None:
    request = ExportRequest("incidents", WEEK)
    rows = _export(demo_db, request, "xlsx", tmp_path / "i.xlsx")
    with duckdb.connect(str(demo_db), read_only=True) as con:
        expected = con.execute(
            "SELECT count(*) FROM incidents WHERE window_start < ? AND window_end >= ? AND kind <> 'source_down'",
            [WEEK.end, WEEK.start],
        ).fetchall()[0][0]
    assert rows == expected > 1
    sheet = openpyxl.load_workbook(tmp_path / "i.xlsx").worksheets[0]
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    case_tiers = [r[1] for r in body]
    assert case_tiers == sorted(case_tiers, reverse=True)
    cases = [r[0] for r in body]
    assert cases == sorted(cases)
    for number in set(cases):
        members = [i for i, r in enumerate(body, 2) if r[0] == number]
        assert sheet.row_dimensions[members[0]].outlineLevel == 0  # the lead
        assert all(sheet.row_dimensions[i].outlineLevel == 1 for i in members[1:])  # folded under it


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="@", blacklist_categories=["Cs"]), max_size=80))
def test_mask_pii_leaves_alone_text_the_export_passes_over(text: str) -> None:
    """The export calls mask_pii only for text with an "@" or seven digits; this pins mask_pii's
    side of that bargain, so a new kind of masking fails here before it can slip past the export."""
    digits = sum(ch.isdecimal() for ch in text)
    if digits < MASK_MIN_DIGITS:
        assert mask_pii(text) == text


def test_an_export_that_outgrows_its_memory_cap_runs_again_with_the_next(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine sorts before the first row, so running out of memory leaves nothing written yet."""
    import duckdb as engine

    import storage.reports

    request = ExportRequest("mentions", WEEK)
    monkeypatch.setattr(storage.reports, "EXPORT_MEMORY", ("1MB",))
    with pytest.raises(engine.OutOfMemoryException):
        _export(demo_db, request, "csv", tmp_path / "small.csv")
    assert not (tmp_path / "small.csv").exists()
    monkeypatch.setattr(storage.reports, "EXPORT_MEMORY", ("1MB", "160MB"))
    assert _export(demo_db, request, "csv", tmp_path / "m.csv") == _count(demo_db)
