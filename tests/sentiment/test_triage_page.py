"""AppTest (no browser) of the triage page: tiers, motives, aspects, replies,
untrusted text only in editor cells and masked, label and tier corrections stored,
and triage's reading shown where it differs from the model's label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from koubei.config import parse_settings
from koubei.records import Mention
from sentiment.pipeline import score_pending
from storage import open_store, upsert_mentions
from storage.sentiment import labelled_texts, tier_labels

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PAGE = "dashboard/pages/triage.py"
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
PHONE = "13812345678"
HOSTILE = f"客服太差了！![](http://evil.example/x.png) <img src=x onerror=alert(1)> 电话{PHONE} :red[骗子]"


@pytest.fixture
def triage_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "k.duckdb"
    mentions = [
        Mention("weibo", "fire", "声浪充电宝充电时起火了，孩子差点被烫伤", NOW, brand="声浪", likes=900, reposts=400),
        Mention("jd", "late", "快递一周了还没到，要求退款", NOW - timedelta(hours=1), brand="声浪"),
        Mention("jd", "rude", HOSTILE, NOW - timedelta(hours=2), brand="声浪"),
        Mention("jd", "happy", "音质很好，非常满意", NOW - timedelta(hours=3), brand="声浪"),
        Mention("jd", "ironic", "真棒，新买的洗衣机第一天就罢工", NOW - timedelta(hours=4), brand="声浪"),
    ]
    with open_store(path) as store:
        upsert_mentions(store, mentions)
    score_pending(lambda: open_store(path), parse_settings({}, db=path))
    monkeypatch.setenv("KOUBEI_DB", str(path))
    return path


def run_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def save_edits(at: AppTest, row: int, edits: dict[str, object]) -> None:
    """Edit one row of the editor the way the browser reports it, then press save."""
    at.session_state["triage_editor"] = {"edited_rows": {row: edits}, "added_rows": [], "deleted_rows": []}
    at.button(key="triage_save").click()
    at.run()
    assert not at.exception


def test_lists_triaged_negatives_and_stores_corrections(triage_db: Path) -> None:
    at = run_page()
    frame = at.dataframe[0].value
    assert frame["urgency"].iloc[0] == 5  # most urgent first
    by_text = {row.text: row for row in frame.itertuples()}
    fire = next(r for text, r in by_text.items() if "起火" in text)
    assert (
        "安全：人身伤害：烫伤" in fire.reason and "safety" not in fire.reason and fire.reply
    )  # the page is in Chinese
    late = next(r for text, r in by_text.items() if "快递" in text)
    assert late.motive == "补偿" and "物流 (负面)" in late.aspects
    assert not any("满意" in text for text in by_text)  # positives are not triaged

    # Hostile text is masked and only in cells; nothing of it reaches Markdown.
    assert any("138****5678" in text for text in by_text) and not any(PHONE in text for text in by_text)
    rendered = [
        str(getattr(e, "value", ""))
        for kind in ("markdown", "caption", "title", "success", "info")
        for e in at.get(kind)
    ]
    assert not any(marker in text for text in rendered for marker in ("evil.example", "onerror", PHONE, ":red["))

    # Correct the first row's label through the editor, then save.
    save_edits(at, list(frame.index).index(0), {"corrected_label": "neu"})
    with open_store(triage_db, read_only=True) as store:
        stored = labelled_texts(store)
    assert stored == [("声浪充电宝充电时起火了，孩子差点被烫伤", "neu")]  # row 0 is the tier-5 fire
    assert [s.value for s in at.success] == ["已保存 1 条纠正。"]


def test_minimum_tier_filters(triage_db: Path) -> None:
    at = run_page()
    at.select_slider(key="triage_min_tier").set_value(5)
    at.run()
    frame = at.dataframe[0].value
    assert set(frame["urgency"]) == {5}


def test_tier_corrections_are_stored_and_the_triage_reading_shown_where_it_differs(triage_db: Path) -> None:
    at = run_page()
    frame = at.dataframe[0].value
    by_id = {row.text: row for row in frame.itertuples()}
    ironic = by_id["真棒，新买的洗衣机第一天就罢工"]
    assert (ironic.label, ironic.reading, ironic.urgency) == ("正面", "负面", 2)  # the model's label and triage's
    fire = next(r for text, r in by_id.items() if "起火" in text)
    assert fire.reading == ""  # the same as the model's label: not repeated

    save_edits(at, list(frame.index).index(list(by_id).index("真棒，新买的洗衣机第一天就罢工")), {"corrected_tier": 3})
    with open_store(triage_db, read_only=True) as store:
        assert tier_labels(store) == [("真棒，新买的洗衣机第一天就罢工", 0, 3)]
        assert labelled_texts(store) == []
    assert [s.value for s in at.success] == ["已保存 1 条纠正。"]
