"""The dashboard's report page and the overview's complete downloads (AppTest, no browser),
with the demo database as the dashboard tests use it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import exports
from dashboard.filters import Filters
from koubei.records import Mention
from storage import open_store, upsert_mentions
from tests.alerts.conftest import put_labels
from tests.dashboard.conftest import MASKED_PHONE, PHONE

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAGE = "dashboard/pages/reports.py"
FILTERS = Filters(datetime(2026, 11, 14).date(), datetime(2026, 11, 20).date(), "Asia/Shanghai")


def _negatives(db: Path, f: Filters) -> int:
    # Through storage, which waits its turn: the dashboard's database is shared with the other
    # xdist worker's tests, whose writes hold it for moments (a bare connect failed on that lock).
    with open_store(db, read_only=True) as store:
        return int(
            store.query(
                "SELECT count(*) FROM mentions m JOIN sentiment s USING (source, native_id)"
                " WHERE s.label = 'neg' AND published_at >= ? AND published_at < ?",
                [f.start, f.end],
            )[0][0]
        )


def test_the_report_page_previews_the_report_and_offers_both_downloads(
    dashboard_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.query_params["dates"] = ["2026-11-17", "2026-11-20"]
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "口碑报告"
    labels = [getattr(b, "label", None) for b in at.get("download_button")]
    assert labels == ["下载 HTML", "下载 PDF"]
    frames = at.get("iframe")
    assert len(frames) == 1
    assert "2026-11-17 – 2026-11-20" in frames[0].proto.srcdoc and "核心指标" in frames[0].proto.srcdoc


def test_the_overview_says_how_many_rows_each_download_holds(dashboard_env: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["dates"] = ["2026-11-14", "2026-11-20"]
    at.run()
    assert not at.exception
    with open_store(dashboard_env, read_only=True) as store:
        mentions = store.query(
            "SELECT count(*) FROM mentions WHERE published_at >= ? AND published_at < ?", [FILTERS.start, FILTERS.end]
        )[0][0]
    captions = [c.value for c in at.caption]
    expected = f"全部 {mentions:,} 条提及", f"全部 {_negatives(dashboard_env, FILTERS):,} 条负面提及"
    assert any(expected[0] in c and expected[1] in c for c in captions), captions


def test_the_excel_download_holds_every_negative_with_formulas_as_plain_text(demo_db: Path) -> None:
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(str(demo_db), FILTERS, "zh")))
    assert book.sheetnames == ["摘要", "负面提及", "事件", "说明"]
    sheet = book["负面提及"]
    assert sheet.max_row - 1 == _negatives(demo_db, FILTERS)
    texts = [c.value for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert any(t.startswith("=HYPERLINK(") for t in texts)  # shown as written: no guard apostrophe
    assert any(MASKED_PHONE in t for t in texts) and not any(PHONE in t for t in texts)


def test_the_negative_sheet_is_not_cut_at_a_thousand_rows(tmp_path: Path) -> None:
    """Regression: the overview's Excel held the latest 1,000 negative mentions and said nothing
    of the rest; it now holds every one."""
    db = tmp_path / "k.duckdb"
    moment = datetime(2026, 11, 18, 4, tzinfo=UTC)
    rows = [
        Mention("jd", f"n{i}", f"第{i}条：充电宝发热，差评", moment - timedelta(minutes=i), brand="声浪")
        for i in range(1_250)
    ]
    with open_store(db) as store:
        upsert_mentions(store, rows)
        put_labels(store, [("jd", m.native_id, "neg") for m in rows])
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(str(db), FILTERS, "zh")), read_only=True)
    assert book["负面提及"].max_row - 1 == 1_250
    csv_text = exports.csv_bytes(str(db), FILTERS, "zh").decode("utf-8-sig")
    assert len(csv_text.splitlines()) == 1 + 1_250 + 1  # header, every row, the count line
