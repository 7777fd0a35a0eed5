"""The mentions explorer (提及) without a browser: a search returns the mentions the watch query
matches under the filters (checked against querylang's Python matcher over the stored mentions),
masked; a malformed query says where; a correction is stored where the triage page stores it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.filters import FILTERS_STATE
from koubei.privacy import mask_pii
from querylang import Document, matches, parse
from storage import open_store
from tests.dashboard.conftest import MASKED_PHONE, PHONE

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
QUERY = "充电宝 NEAR/10 (发烫 OR 烫)"


def open_mentions(query: str = "") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("dashboard/pages/mentions.py").run()
    if query:
        at.text_input(key="mentions_query").set_value(query).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def expected_keys(db: Path, at: AppTest, query: str) -> list[tuple[str, str]]:
    """Newest first, from the Python matcher over every stored mention in the filter's days."""
    chosen = at.session_state[FILTERS_STATE]
    parsed = parse(query)
    with open_store(db, read_only=True) as store:
        rows = store.query(
            "SELECT source, native_id, text, language, brand, product FROM mentions"
            " WHERE published_at >= ? AND published_at < ? ORDER BY published_at DESC, source, native_id",
            [chosen.start, chosen.end],
        )
    return [(s, n) for s, n, text, lang, b, p in rows if matches(parsed, Document(text, s, lang, b, p))]


def shown(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["text"])


def test_a_search_shows_the_matching_mentions_newest_first(dashboard_env: Path) -> None:
    at = open_mentions(QUERY.replace("(发烫 OR 烫)", "发烫"))
    expected = expected_keys(dashboard_env, at, "充电宝 NEAR/10 发烫")
    assert 0 < len(expected)
    assert at.caption[-1].value.startswith(f"共 {len(expected)} 条提及")
    with open_store(dashboard_env, read_only=True) as store:
        texts = dict(((s, n), t) for s, n, t in store.query("SELECT source, native_id, text FROM mentions"))
    assert shown(at) == [mask_pii(texts[key]) for key in expected[:50]]


def test_a_later_page_then_a_narrower_query_show_the_right_rows(dashboard_env: Path) -> None:
    """The count and the asked page are read together (one connection): page 2 is the next 50, and a
    query with a single page after it shows its first page, not an empty one."""
    broad = "充电宝 OR 耳机 OR 客服 OR 物流"
    at = open_mentions(broad)
    expected = expected_keys(dashboard_env, at, broad)
    assert len(expected) > 50
    with open_store(dashboard_env, read_only=True) as store:
        texts = dict(((s, n), t) for s, n, t in store.query("SELECT source, native_id, text FROM mentions"))
    at.number_input(key="mentions_page").set_value(2).run()
    assert shown(at) == [mask_pii(texts[key]) for key in expected[50:100]]
    narrow = "充电宝 NEAR/2 发烫"
    at.text_input(key="mentions_query").set_value(narrow).run()
    assert not at.exception, [e.message for e in at.exception]
    fewer = expected_keys(dashboard_env, at, narrow)
    assert 0 < len(fewer) <= 50
    assert at.number_input(key="mentions_page").value == 1
    assert shown(at) == [mask_pii(texts[key]) for key in fewer]


def test_the_search_box_takes_traditional_characters_and_pii_is_masked(dashboard_env: Path) -> None:
    at = open_mentions(PHONE)
    assert all(PHONE not in text for text in shown(at))
    assert any(MASKED_PHONE in text for text in shown(at))
    simplified = open_mentions("充电宝 发烫")
    traditional = open_mentions("充電寶 發燙")
    assert shown(traditional) == shown(simplified) and shown(simplified)


def test_a_malformed_query_says_what_and_where_in_the_page_s_language(dashboard_env: Path) -> None:
    at = open_mentions("充电宝 AND NOT")
    assert at.error[0].value == "查询有误：NOT 后面应跟一个词或短语，这里却是 查询结尾（第 12 列）"
    assert not at.dataframe
    at.session_state["lang"] = "en"
    at.run()
    assert r"expected a term after NOT\, found the end of the query (column 12)" in at.error[0].value
    assert not at.dataframe


def test_what_the_query_typed_is_shown_as_text_not_markup_in_the_error(dashboard_env: Path) -> None:
    at = open_mentions("__bold__:x")  # an unknown field, named in the error as typed
    assert r"未知字段 \_\_bold\_\_\:" in at.error[0].value  # escaped: markdown would make it bold


def test_a_sentiment_and_tier_correction_is_stored(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "koubei.duckdb"
    shutil.copy(demo_db, db)  # this test writes; the shared demo database stays as built
    monkeypatch.setenv("KOUBEI_DB", str(db))
    at = open_mentions("充电宝 发烫")
    at.session_state["mentions_editor"] = {
        "edited_rows": {1: {"corrected_label": "pos", "corrected_tier": 4}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.button(key="mentions_save").click().run()
    assert not at.exception
    assert at.success[0].value == "已保存 2 条修正"
    second = expected_keys(db, at, "充电宝 发烫")[1]
    with open_store(db, read_only=True) as store:
        assert store.query("SELECT source, native_id, label FROM sentiment_labels") == [(*second, "pos")]
        assert store.query("SELECT source, native_id, urgency FROM triage_labels") == [(*second, 4)]


def test_the_topic_filter_shows_the_mentions_the_topics_query_matches(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The topics are those of the repository's koubei.toml, applied to the demo by `koubei retag`."""
    from koubei import topics
    from koubei.config import REPO_CONFIG, load_settings

    db = tmp_path / "koubei.duckdb"
    shutil.copy(demo_db, db)
    configured = load_settings(REPO_CONFIG).topics
    topic = configured[0]
    with open_store(db) as store:
        assert topics.retag(store, configured) > 0
    monkeypatch.setenv("KOUBEI_DB", str(db))
    at = open_mentions()
    at.multiselect(key="mentions_topics").set_value([topic.name]).run()
    assert not at.exception, [e.message for e in at.exception]
    expected = expected_keys(db, at, topic.query)
    assert 0 < len(expected)
    assert at.caption[-1].value.startswith(f"共 {len(expected)} 条提及")
    with open_store(db, read_only=True) as store:
        texts = dict(((s, n), t) for s, n, t in store.query("SELECT source, native_id, text FROM mentions"))
    assert shown(at) == [mask_pii(texts[key]) for key in expected[:50]]


@pytest.mark.parametrize("page", ["mentions", "triage"])
def test_an_empty_correction_cell_shows_nothing(dashboard_env: Path, page: str) -> None:
    """Bug: the correction columns of mentions without a correction showed the word "None"."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(f"dashboard/pages/{page}.py").run()
    editor = at.dataframe[0].proto
    assert editor.HasField("placeholder") and editor.placeholder == ""


def test_the_triage_page_names_motives_in_english(dashboard_env: Path) -> None:
    """Bug: the English triage page showed the stored motive codes (发泄, 尊重) untranslated."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.segmented_control(key="lang").set_value("en").run()
    at.switch_page("dashboard/pages/triage.py").run()
    motives = set(at.dataframe[0].value["motive"])
    assert motives and motives <= {"Venting", "Respect", "Compensation", "Suggestion", ""}, motives
