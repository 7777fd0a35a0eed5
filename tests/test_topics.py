"""Topics ([[topics]]) defined by watch queries: checked with the column of an error, editable as a
saved setting, tagged at ingest, re-applied by `koubei retag` in the database (through the full-text
index when it is complete: the same tags as a scan and as the Python matcher), and forgotten with
their mention."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collectors.file_import import import_file
from koubei import topics
from koubei.cli import app
from koubei.config import load_settings
from koubei.errors import ConfigError
from koubei.records import Mention
from koubei.settings.effective import load_effective_settings, save_checked
from koubei.settings.sections import Topic
from storage import Store, open_store, upsert_mentions
from storage.forget import Selector, forget
from tests.storage.test_textindex import generated_mentions

NOW = datetime(2026, 11, 21, tzinfo=UTC)
TOPICS = (
    Topic(name="发热", query="发热 OR 發燙 OR 发烫"),
    Topic(name="物流慢", query="(物流 OR 快递) NOT 很快"),
    Topic(name="质量差", query="质量 NEAR/6 差"),
    Topic(name="微博客服", query="客服 source:gen1"),
    Topic(name="好评", query="好 OR 赞"),  # single characters: the index narrows nothing
)
CSV = "内容,评论时间\n充电宝发烫，物流也慢,2026-11-01 10:00:00\n快递很快,2026-11-01 11:00:00\n随便说说,2026-11-01 12:00:00\n"


def _tags(store: Store) -> set[tuple[str, str, str]]:
    return {(s, n, t) for s, n, t in store.query("SELECT source, native_id, topic FROM mention_topics")}


@pytest.fixture
def generated(db_path: Path) -> list[Mention]:
    mentions = generated_mentions(1500, seed=11)
    with open_store(db_path) as store:
        upsert_mentions(store, mentions)
    return mentions


def test_a_malformed_topic_query_is_refused_with_the_topic_and_the_column(tmp_path: Path) -> None:
    config = tmp_path / "koubei.toml"
    config.write_text('[[topics]]\nname = "发热"\nquery = "发热 OR (发烫"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert "topic 发热 query" in str(error.value)
    assert "column 10" in str(error.value)
    config.write_text('[[topics]]\nname = "a"\nquery = "x"\n[[topics]]\nname = "a"\nquery = "y"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="another topic is named 'a'"):
        load_settings(config)


def test_topics_saved_in_the_database_are_checked_as_the_file_is(tmp_path: Path) -> None:
    config, db = tmp_path / "koubei.toml", tmp_path / "k.duckdb"
    config.write_text('[[topics]]\nname = "发热"\nquery = "发热"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="topic 物流 query: expected a term after NOT.*column 7"):
        save_checked(("topics",), [{"name": "物流", "query": "物流 NOT"}], "alice", config, db)
    assert save_checked(("topics",), [{"name": "物流", "query": "物流 OR 快递"}], "alice", config, db)
    assert load_effective_settings(config, db).topics == (Topic(name="物流", query="物流 OR 快递"),)


def test_an_import_is_tagged_with_the_topics_its_text_matches(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    import_file(path, "crm", {}, lambda: open_store(db_path), topics=TOPICS)
    with open_store(db_path, read_only=True) as store:
        rows = store.query(
            "SELECT m.text, t.topic FROM mention_topics t JOIN mentions m USING (source, native_id) ORDER BY ALL"
        )
    assert set(rows) == {("充电宝发烫，物流也慢", "物流慢"), ("充电宝发烫，物流也慢", "发热")}  # not 快递很快


def test_retag_applies_topics_in_the_database_as_ingest_does_in_python(db_path: Path, generated: list[Mention]) -> None:
    expected = set(topics.topic_tags(topics.topic_rules(TOPICS), generated))
    with open_store(db_path) as store:
        assert topics.retag(store, TOPICS) == len(expected)
        assert _tags(store) == expected
        assert {t for _, _, t in expected} == {t.name for t in TOPICS}  # every topic, narrowed or not, tags some
        store.con.execute("UPDATE search_index_state SET complete = false")  # the scan agrees
        store.con.execute("DELETE FROM topic_queries")
        assert topics.retag(store, TOPICS) == 0
        assert _tags(store) == expected


def test_retag_recomputes_only_the_topics_whose_query_changed(db_path: Path, generated: list[Mention]) -> None:
    with open_store(db_path) as store:
        topics.retag(store, TOPICS)
        store.con.execute("DELETE FROM mention_topics WHERE topic = '发热'")  # unchanged: left as it is
        changed = (*TOPICS[1:4], Topic(name="好评", query="赞"))  # 发热 dropped, 好评 narrowed
        expected = set(topics.topic_tags(topics.topic_rules(changed), generated))
        before = _tags(store)
        assert topics.retag(store, changed) == len(before ^ expected)
        assert _tags(store) == expected


def test_ingest_with_a_changed_query_makes_the_next_retag_recompute_the_topic(
    db_path: Path, generated: list[Mention]
) -> None:
    """A topic whose query changed and was used at ingest before any retag: the retag after must
    not take the old record for the history's state."""
    narrowed = (Topic(name="发热", query="发热"),)
    with open_store(db_path) as store:
        topics.retag(store, TOPICS[:1])
        topics.tag_topics(store, topics.topic_rules(narrowed), generated[:5])
        topics.retag(store, narrowed)
        assert _tags(store) == set(topics.topic_tags(topics.topic_rules(narrowed), generated))


def test_the_cli_retags_topics_and_forget_removes_a_mentions_topics(tmp_path: Path, db_path: Path) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, [Mention("s", "1", "充电宝发烫", NOW), Mention("s", "2", "物流慢", NOW)])
    config = tmp_path / "koubei.toml"
    config.write_text('[[topics]]\nname = "发热"\nquery = "发烫 OR 发热"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--db", str(db_path), "--config", str(config), "retag"])
    assert result.exit_code == 0, result.output
    assert "1 topic tags added or removed for 1 configured topics" in result.output
    forget(lambda: open_store(db_path), Selector("mention", "s:1"), "test", "test")
    with open_store(db_path, read_only=True) as store:
        assert _tags(store) == set()
