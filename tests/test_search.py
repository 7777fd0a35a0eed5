"""`koubei search`: the mentions a watch query matches, masked, as lines or JSON lines; a malformed
query exits 2 naming the column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from koubei.cli import app
from koubei.records import Mention
from storage import open_store, upsert_mentions

TEXTS = {
    "1": ("weibo", "2026-11-01T02:00", "聲浪充電寶用了兩天就發燙，客服电话 13812345678"),
    "2": ("jd", "2026-11-02T02:00", "充电宝很好用，不发烫"),
    "3": ("weibo", "2026-11-03T02:00", "充电宝发烫了，退款！"),
    "4": ("weibo", "2026-11-04T02:00", "耳机音质不错"),
}


@pytest.fixture
def searchable(db_path: Path) -> Path:
    mentions = [
        Mention(source=s, native_id=n, text=t, published_at=datetime.fromisoformat(at).replace(tzinfo=UTC))
        for n, (s, at, t) in TEXTS.items()
    ]
    with open_store(db_path) as store:
        upsert_mentions(store, mentions)
        store.con.execute("INSERT INTO sentiment VALUES ('weibo', '1', 0.05, 'neg', 'test', '1', 'h', now())")
        store.con.execute("INSERT INTO triage (source, native_id, urgency) VALUES ('weibo', '1', 3)")
    return db_path


def _search(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--db", str(db), "search", *args])
    return result.exit_code, result.output


def test_search_prints_matching_mentions_newest_first_as_json_lines_masked(searchable: Path) -> None:
    code, output = _search(searchable, "充电宝 NEAR/6 发烫 NOT 不发烫", "--json")
    assert code == 0, output
    lines = [json.loads(line) for line in output.splitlines()]
    assert [line["id"] for line in lines] == ["weibo:3", "weibo:1"]
    assert lines[1] == {
        "id": "weibo:1",
        "source": "weibo",
        "published_at": "2026-11-01T02:00:00+00:00",
        "text": "聲浪充電寶用了兩天就發燙，客服电话 138****5678",
        "label": "neg",
        "tier": 3,
    }


def test_search_takes_days_and_a_limit(searchable: Path) -> None:
    code, output = _search(searchable, "充电宝 OR 耳机", "--since", "2026-11-02", "--until", "2026-11-03", "--json")
    assert code == 0, output
    assert [json.loads(line)["id"] for line in output.splitlines()] == ["weibo:3", "jd:2"]
    code, output = _search(searchable, "source:weibo", "--limit", "1")
    assert code == 0, output
    assert output.count("\n") == 1 and "耳机音质不错" in output


def test_a_malformed_query_exits_2_with_the_column(searchable: Path) -> None:
    code, output = _search(searchable, "充电宝 AND NOT")
    assert code == 2
    assert "expected a term after NOT, found the end of the query at column 12" in output
    assert output.rstrip().endswith("^")


def test_rebuild_index_recreates_the_full_text_index(searchable: Path) -> None:
    _, before = _search(searchable, "充电宝 发烫", "--json")
    with open_store(searchable) as store:
        store.con.execute("DELETE FROM search_grams")
        store.con.execute("UPDATE search_index_state SET complete = false")
    result = CliRunner().invoke(app, ["--db", str(searchable), "rebuild-index"])
    assert result.exit_code == 0, result.output
    assert "full-text index rebuilt: 4 mentions" in result.output
    with open_store(searchable, read_only=True) as store:
        assert store.query("SELECT bool_and(complete), count(*) FROM search_index_state")[0] == (True, 1)
        assert store.query("SELECT count(DISTINCT doc) FROM search_grams")[0][0] == 4
    assert _search(searchable, "充电宝 发烫", "--json") == (0, before)


def test_rebuild_index_sort_only_sorts_the_postings_without_reading_texts(searchable: Path) -> None:
    with open_store(searchable) as store:
        stored = store.query("SELECT gram, doc FROM search_grams")
        store.con.execute("CREATE TABLE unsorted AS SELECT * FROM search_grams ORDER BY doc DESC, gram DESC")
        store.con.execute("DROP TABLE search_grams")
        store.con.execute("ALTER TABLE unsorted RENAME TO search_grams")
        store.con.execute("UPDATE mentions SET text = ''")  # a full rebuild would lose every posting
    result = CliRunner().invoke(app, ["--db", str(searchable), "rebuild-index", "--sort-only"])
    assert result.exit_code == 0, result.output
    assert f"full-text index sorted: {len(stored)} postings" in result.output
    with open_store(searchable, read_only=True) as store:
        in_order = store.query("SELECT gram, doc FROM search_grams ORDER BY rowid")
        assert in_order == sorted(stored)  # the same postings, from none of the (blanked) texts
        assert store.query("SELECT sorted_through = (SELECT max(doc) FROM search_docs) FROM search_index_state")[0][0]
