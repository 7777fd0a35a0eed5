"""AppTest of the dashboard pages owned by alerts: the incident queue and rules/backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from alerts.detect import detect_incidents
from koubei.records import Mention
from storage import incidents as inc
from storage import open_store, upsert_mentions
from tests.alerts.conftest import DEMO_NOW, put_labels, settings_with

REPO = Path(__file__).resolve().parents[2]
HOSTILE = "![x](http://evil.example/p.png) **充电宝** 发热冒烟 电话13812345678"


@pytest.fixture
def incident_db(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from datetime import timedelta

    hostile = Mention(
        source="demo.weibo",
        native_id="hostile",
        brand="声浪",
        product="声浪P20充电宝",
        text=HOSTILE,
        published_at=(DEMO_NOW - timedelta(hours=30)).replace(tzinfo=__import__("datetime").timezone.utc),
        url="javascript:alert(1)",
        likes=10**6,
    )
    with open_store(demo_db) as store:
        upsert_mentions(store, [hostile])
        put_labels(store, [("demo.weibo", "hostile", "neg")])
    detect_incidents(lambda: open_store(demo_db), settings_with({}), now=DEMO_NOW)
    monkeypatch.setenv("KOUBEI_DB", str(demo_db))
    return demo_db


def _all_markdown(at: AppTest) -> str:
    return " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.info, *at.success, *at.warning])


def _table(at: AppTest, column: str, nth: int = 0) -> Any:
    """The page's nth table that has `column` (tables appear only when they have rows)."""
    return [d.value for d in at.dataframe if column in d.value.columns][nth]


def _page(name: str) -> AppTest:
    """The app through its entrypoint (which draws the shared filters), on one page."""
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=90)
    at.run()
    at.switch_page(f"dashboard/pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def test_incident_queue_groups_a_crisis_into_one_case_and_logs_actions_on_all(incident_db: Path) -> None:
    at = _page("incidents")
    queue = at.dataframe[0].value
    with open_store(incident_db) as store:
        unhandled = [r for r in inc.list_incidents(store, limit=500) if r.status != "resolved"]
        crisis_ids = {r.id for r in unhandled if r.scope_value == "声浪P20充电宝" and r.severity >= 4}
    assert len(queue) < len(unhandled)  # cases, not incidents
    assert queue["related"].sum() + len(queue) <= len(unhandled)  # (the filter's dates hold them all or fewer)
    crisis = queue[queue["scope"].str.contains("声浪P20充电宝") & (queue["tier"] >= 4)]
    assert len(crisis) == 1 and crisis["related"].iloc[0] >= 2
    picker = at.selectbox(key="incidents_pick_zh")
    case_id = picker.value
    assert case_id in crisis_ids
    related = _table(at, "scope", nth=1)  # the queue, then this case's other incidents (collapsed)
    assert len(related) == crisis["related"].iloc[0]
    mentions = _table(at, "text")
    top = mentions.iloc[0]  # the hostile post has the most reach
    assert "138****5678" in top["text"] and "13812345678" not in top["text"]
    assert top["url"] is None or (isinstance(top["url"], float))  # javascript: links are dropped
    assert all(u is None or str(u).startswith(("http://", "https://")) or isinstance(u, float) for u in mentions["url"])
    assert "evil.example" not in _all_markdown(at) and "13812345678" not in _all_markdown(at)

    at.button(key="inc_btn_acknowledge").click().run()
    assert not at.exception, at.exception
    at.text_input[0].set_value("小李")
    at.text_area[-1].set_value("已在微博置顶回应，提供免费换新")
    at.button[-1].click().run()  # the form's own button, named for the action
    assert not at.exception, at.exception
    with open_store(incident_db) as store:
        case = [r for r in inc.list_incidents(store, limit=500) if r.status == "acknowledged"]
        logs = [inc.responses(store, r.id) for r in case]
    # one action, logged on every incident of the case
    assert len(case) == crisis["related"].iloc[0] + 1 and case_id in {r.id for r in case}
    assert all(r.first_response_at is not None for r in case)
    assert all(log[0].actor == "小李" and "免费换新" in str(log[0].note) for log in logs)
    at.run()
    assert "小李" in " ".join(_table(at, "actor")["actor"])
    # nothing of the case is open now: acknowledging again is disabled
    assert at.button(key="inc_btn_acknowledge").disabled


def test_settings_backtest_chart(incident_db: Path) -> None:
    at = _page("settings")
    at.selectbox(key="settings_scope").set_value("brand").run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1
    # Tables in page order: the firings, then rules, and the editors of brands, topics, routes and channels.
    assert len(at.dataframe) == 6
    firings = at.dataframe[0].value
    assert (firings["brand"] == "声浪").any()
    assert any("触发" in str(x.value) for x in at.text)
    rules = at.dataframe[1].value
    assert not rules["阈值"].str.contains("{", regex=False).any()  # words, not a Python dict
    # A much stricter threshold fires less.
    at.number_input(key="settings_z").set_value(30.0).run()
    assert not at.exception, at.exception
    stricter = at.dataframe[0].value if len(at.dataframe) == 6 else []
    assert len(stricter) < len(firings)
