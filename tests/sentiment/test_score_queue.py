"""The score queue (issue 18, item 1): what needs scoring is recorded at ingest, so a run
finds it without reading what is already scored; and scoring on every core (item 5)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collectors.options import parse_source
from collectors.runner import run_collector
from collectors.sources.demo import DemoCollector
from koubei.config import Settings, parse_settings
from sentiment.model import scorer_from_settings
from sentiment.pipeline import score_pending
from storage import Store, open_store, queue, upsert_mentions
from storage import sentiment as db
from tests.sentiment.test_pipeline import COPIES, MENTIONS, mention

RESULTS = {
    "sentiment": "SELECT source, native_id, score, label, model, model_version, text_hash FROM sentiment",
    "mention_aspects": "SELECT * FROM mention_aspects",
    "triage": "SELECT source, native_id, urgency, motive, reason, reply, flags, reading FROM triage",
    "mention_flags": "SELECT source, native_id, rating_conflict, default_review, duplicate_group,"
    " duplicate_count, excluded FROM mention_flags",
}


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_path)


def opener(db_path: Path) -> Callable[[], Store]:
    return lambda: open_store(db_path)


@pytest.fixture
def rows_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many mentions each read of the queue returned, as score_pending reads them."""
    reads: list[int] = []
    original = queue.pending_mentions

    def counting(*args: Any, **kwargs: Any) -> Any:
        pending, after = original(*args, **kwargs)
        reads.append(len(pending))
        return pending, after

    monkeypatch.setattr(queue, "pending_mentions", counting)
    return reads


def _results(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with open_store(db_path) as store:
        return {table: sorted(store.query(sql), key=str) for table, sql in RESULTS.items()}


def test_rerun_scores_nothing_and_reads_nothing_old(db_path: Path, settings: Settings, rows_read: list[int]) -> None:
    """Bug (issue 18): every run found pending work by md5-hashing every stored text (5.9 s at
    10M with nothing pending); now a rerun reads no mention and new ones cost only themselves."""
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS + COPIES)
    assert score_pending(opener(db_path), settings, batch_size=3).scored == len(MENTIONS + COPIES)
    rows_read.clear()
    assert score_pending(opener(db_path), settings).scored == 0
    assert sum(rows_read) == 0
    new = [mention(30 + i, f"第{i}次买了，物流很快") for i in range(3)]
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS + new)  # the old ones again, unchanged: not queued
        assert queue.count_pending(store) == 3
    assert score_pending(opener(db_path), settings).scored == 3
    assert sum(rows_read) == 3


def test_changed_mention_is_requeued_and_its_old_aspects_replaced(db_path: Path, settings: Settings) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, [mention(1, "物流太慢了，等了一周，差评")])
    score_pending(opener(db_path), settings)
    aspects = "SELECT aspect FROM mention_aspects ORDER BY 1"
    with open_store(db_path) as store:
        assert ("物流",) in store.query(aspects)
        upsert_mentions(store, [mention(1, "屏幕很清晰，非常满意")])
        assert queue.count_pending(store) == 1
    assert score_pending(opener(db_path), settings).scored == 1
    with open_store(db_path) as store:
        assert ("物流",) not in store.query(aspects)
        assert store.query("SELECT label FROM sentiment") == [("pos",)]
        assert not store.query("SELECT * FROM triage")  # the complaint it was is gone


def test_model_version_change_requeues_every_mention(db_path: Path, settings: Settings) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS)
    score_pending(opener(db_path), settings)
    # Without VADER the scorer's version changes ("...+vader" -> "..."): everything is stale.
    plain = parse_settings({"sentiment": {"duplicate_window_days": 0, "english": False}}, db=db_path)
    again = score_pending(opener(db_path), plain)
    assert again.scored == len(MENTIONS)
    with open_store(db_path) as store:
        versions = store.query("SELECT DISTINCT model_version FROM sentiment")
    assert versions == [(scorer_from_settings(plain).version,)]
    assert score_pending(opener(db_path), plain).scored == 0


def test_database_scored_before_the_queue_scores_only_what_is_stale(db_path: Path, settings: Settings) -> None:
    """Migration 050 queues what an older database had pending (never scored, or text changed
    since); its first run then scores those only."""
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS)
    score_pending(opener(db_path), settings)
    with open_store(db_path) as store:  # back to before 050, with one mention unscored and one edited
        store.con.execute(
            "DROP TABLE score_queue; DROP TABLE score_model; DELETE FROM schema_migrations WHERE version IN (50, 140, 150)"
        )
        store.con.execute("DELETE FROM sentiment WHERE native_id = 'm2'")
        store.con.execute("UPDATE sentiment SET text_hash = 'old' WHERE native_id = 'm3'")
    with open_store(db_path) as store:
        assert sorted(store.query("SELECT native_id, rescore FROM score_queue")) == [("m2", False), ("m3", True)]
    assert score_pending(opener(db_path), settings).scored == 2


def test_mention_changed_while_its_batch_was_scored_stays_queued(db_path: Path, settings: Settings) -> None:
    """A batch dequeues a key only as it read it: a change stored meanwhile is scored next run."""
    with open_store(db_path) as store:
        upsert_mentions(store, [mention(1, "质量很好")])
        pending, _ = queue.pending_mentions(store, 10)
        upsert_mentions(store, [mention(1, "质量很差，坏了")])
        score = {"score": 0.9, "label": "pos", "model": "m", "model_version": "1", "text_hash": pending[0].text_hash}
        db.write_scores(store, [{"source": "test", "native_id": "m1", **score}], [], [], [], scored=pending)
        assert queue.count_pending(store) == 1


def test_queued_mention_deleted_before_scoring_leaves_the_queue(db_path: Path) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, [mention(1, "质量很好"), mention(2, "质量很差")])
        store.con.execute("DELETE FROM mentions WHERE native_id = 'm1'")
        pending, last = queue.pending_mentions(store, 10)
        assert [m.native_id for m in pending] == ["m2"]
        assert queue.pending_mentions(store, 10, after=last) == ([], None)
        assert store.query("SELECT native_id FROM score_queue") == [("m2",)]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_file = tmp_path_factory.mktemp("queue") / "demo.duckdb"
    options = {"days": 3, "seed": 11, "end": "2026-11-23T12:00:00+00:00"}
    result = run_collector(DemoCollector(parse_source("demo", options)), lambda: open_store(db_file))
    assert result.ok and result.inserted > 1000, result.error
    return db_file


def test_parallel_scoring_equals_serial_on_the_demo_data(demo_db: Path, tmp_path: Path) -> None:
    """Scoring used one core; two worker processes now store exactly what one does."""
    outcome = {}
    for workers in (1, 2):
        copy = tmp_path / f"w{workers}.duckdb"
        shutil.copy(demo_db, copy)
        settings = parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=copy)
        summary = score_pending(opener(copy), settings, batch_size=700, workers=workers)
        outcome[workers] = (summary.scored, summary.negatives, summary.urgent, summary.duplicates_excluded)
        assert summary.scored > 1000
    assert outcome[1] == outcome[2]
    assert _results(tmp_path / "w1.duckdb") == _results(tmp_path / "w2.duckdb")


def test_mixed_languages_score_as_each_text_alone() -> None:
    """The language split routes each text to its model: a batch of mixed Chinese and English
    scores every text as a batch of that text alone does."""
    scorer = scorer_from_settings()
    texts = ["质量太差了，用了两天就坏了", "Great phone, very happy", "物流很快", "Terrible support, never again"] * 5
    languages = [None, "en", "zh", None] * 5
    scores, labels = scorer.score(texts, languages)
    alone = [scorer.score([t], [lang]) for t, lang in zip(texts, languages)]
    assert list(scores) == [float(s[0][0]) for s in alone]
    assert labels == [s[1][0] for s in alone]
