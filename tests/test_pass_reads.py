"""A pass reads only what changed plus bounded context (issue 18, part 4): which statements
read the large per-mention tables, counted on the statements a store runs (not timed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from koubei.config import parse_settings
from koubei.records import Mention
from sentiment.pipeline import ScoreSummary, score_pending
from storage import Store, open_store, upsert_mentions
from tests.sentiment.test_pipeline import COPIES, MENTIONS, mention

LARGE = ("mentions", "sentiment", "triage", "mention_aspects", "mention_flags")


class Recorder:
    """Stands in for a Store's connection and keeps the SQL of every statement it runs."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.statements: list[str] = []

    def execute(self, sql: str, params: Any = None) -> Any:
        self.statements.append(sql)
        return self._con.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def recorded(path: Path, seen: list[str]) -> Callable[[], Store]:
    def opener() -> Store:
        store = open_store(path)
        recorder = Recorder(store.con)
        recorder.statements = seen
        store.con = recorder  # type: ignore[assignment]
        return store

    return opener


def score_recorded(tmp_path: Path) -> tuple[ScoreSummary, list[str]]:
    """MENTIONS and their COPIES stored and scored in one process; the statements it ran."""
    path = tmp_path / "k.duckdb"
    with open_store(path) as store:
        upsert_mentions(store, MENTIONS + COPIES)
    seen: list[str] = []
    settings = parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=path)
    return score_pending(recorded(path, seen), settings, workers=1), seen


def reads(statements: list[str], table: str) -> list[str]:
    """The statements that read `table` (a FROM or JOIN naming it)."""
    pattern = re.compile(rf"\b(FROM|JOIN)\s+{table}\b(?!_)")
    return [s for s in statements if pattern.search(s)]


def test_first_scores_update_rollups_without_joining_the_scored_tables(tmp_path: Path) -> None:
    """Bug: every score write took the batch's rollup contributions out and back in through
    LEFT JOINs from the batch's keys to sentiment, triage and mention_flags, which hashed the
    whole of each table (0.3-0.8 s per batch at 1M mentions, twice). A first score's change is
    known from the rows in hand; any read of those tables goes through the batch's keys."""
    summary, seen = score_recorded(tmp_path)
    assert summary.scored == len(MENTIONS + COPIES)
    rollup_state = [s for s in seen if "TEMP TABLE koubei_rollup_state" in s]
    assert rollup_state, "the rollups follow the scores"
    for table in ("sentiment", "triage", "mention_flags"):
        assert not [s for s in reads(rollup_state, table) if "IN (SELECT source, native_id FROM" not in s], table


def test_keywords_segment_each_text_once_per_pass(monkeypatch: Any) -> None:
    """Bug: every incident a pass updated segmented its window's and its week before's texts
    with jieba again (about 1 s per incident), though the scopes of one burst share most texts."""
    import jieba

    from sentiment.keywords import keyword_tokens, top_keywords

    calls: list[str] = []
    segment = jieba.lcut

    def counted(text: str, *args: Any, **kwargs: Any) -> list[str]:
        calls.append(text)
        return list(segment(text, *args, **kwargs))

    monkeypatch.setattr(jieba, "lcut", counted)
    keyword_tokens.cache_clear()
    texts = [f"充电宝第{i}次充不进电，客服不理人" for i in range(30)]
    background = [f"耳机音质不错第{i}天" for i in range(30)]
    first = top_keywords(texts, background=background)
    again = top_keywords(texts[:20], background=background)
    assert first and again
    assert len(calls) == len(set(texts + background))


def _mentions_published(first: int, count: int, day: int) -> list[Mention]:
    """`count` mentions published a minute apart on `day` of 2026."""
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)
    return [
        replace(
            mention(first + i, f"第{first + i}次买了，物流很快，质量不错"), published_at=start + timedelta(minutes=i)
        )
        for i in range(count)
    ]


def test_a_pass_reads_its_new_mentions_within_their_time_range(tmp_path: Path) -> None:
    """Bug: reading the queued mentions (their texts) and moving their rollup counts joined the
    batch's keys to the whole mentions table: no index serves a join on (source, native_id), so
    every pass read every stored mention (4.3 s and 3.5 s of a 10k pass at 10M). Both reads are
    now bounded by the queued mentions' published_at range, which the table's zone maps answer."""
    path = tmp_path / "k.duckdb"
    settings = parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=path)
    with open_store(path) as store:
        upsert_mentions(store, _mentions_published(0, 20, day=0))
    score_pending(lambda: open_store(path), settings, workers=1)
    with open_store(path) as store:
        upsert_mentions(store, _mentions_published(100, 5, day=200))
    seen: list[str] = []
    assert score_pending(recorded(path, seen), settings, workers=1).scored == 5
    by_key = [s for s in reads(seen, "mentions") if "koubei_next" in s or "koubei_scored_now" in s]
    assert len(by_key) >= 2, "the queue read and the rollup move read the mentions"
    assert all("published_at BETWEEN" in s for s in by_key), by_key


def test_a_run_pass_opens_the_database_once(tmp_path: Path, monkeypatch: Any) -> None:
    """Bug: a `koubei run` pass opened and closed the database 15 times (collect, each scoring
    read and batch, duplicate marking, detection, delivery); each close of a writer checkpoints
    (10.5 s of a 10k pass at 10M mentions). Its steps now share one open."""
    import storage.db
    from koubei.context import AppContext
    from koubei.pipeline import run_once

    config = tmp_path / "koubei.toml"
    config.write_text('[sources.demo]\ndays = 1\nend = "2026-11-20T12:00:00+08:00"\n', encoding="utf-8")
    ctx = AppContext(config_path=config, db=tmp_path / "k.duckdb")
    assert ctx.settings.sources  # the settings (koubei.toml and the saved ones) are read before the pass
    opened: list[str] = []
    connect = storage.db._connect

    def counting(path: str, read_only: bool, lock_timeout: float) -> Any:
        opened.append(path)
        return connect(path, read_only, lock_timeout)

    monkeypatch.setattr(storage.db, "_connect", counting)
    summary = run_once(ctx, deliver=True)
    assert summary.new_mentions > 100 and summary.scored is not None and summary.scored.scored == summary.new_mentions
    assert summary.detected is not None and summary.delivered is not None
    assert len(opened) == 1


def test_first_scores_are_appended_not_merged_by_key(tmp_path: Path) -> None:
    """Bug: every score write merged its rows into sentiment, mention_aspects, triage and
    mention_flags with ON CONFLICT, which DuckDB 1.5 runs as a MERGE that hash-joins the whole
    table (0.3-2 s per 2,000 rows at 10M mentions, 9 s of a 10k pass). A first score has nothing
    stored to replace: its rows are appended (the primary key's index checks them)."""
    summary, seen = score_recorded(tmp_path)
    assert summary.scored == len(MENTIONS + COPIES)
    for table in ("sentiment", "mention_aspects", "triage", "mention_flags"):
        writes = [s for s in seen if s.startswith(f"INSERT INTO {table} BY NAME SELECT * FROM koubei_")]
        assert writes and not [s for s in writes if "ON CONFLICT" in s], (table, writes)


def test_duplicate_marking_reads_its_members_within_their_time_range(tmp_path: Path) -> None:
    """Bug: grouping read its candidates' and groups' texts by joining their keys to the mentions
    of the whole window (a month: 1.7-2.0 s a query at 10M mentions). The texts are now read
    within the members' own published_at range."""
    summary, seen = score_recorded(tmp_path)
    assert summary.duplicates_excluded > 0
    texts = [s for s in reads(seen, "mentions") if "koubei_members" in s]
    assert texts and all("BETWEEN" in s for s in texts), texts


def test_duplicate_flags_move_rollups_reading_mentions_within_their_time_range(tmp_path: Path) -> None:
    """Bug: when grouping flipped copies' excluded flags, the rollups took their contributions
    out and back in by reading the mentions table by key, whole (no index serves it: 2 s a read
    at 10M mentions, twice a pass). The members' published_at range, from the duplicate index,
    now bounds those reads."""
    summary, seen = score_recorded(tmp_path)
    assert summary.duplicates_excluded > 0
    moves = [s for s in reads(seen, "mentions") if "TEMP TABLE koubei_rollup_state" in s and "koubei_rollup_keys" in s]
    assert moves and all("published_at BETWEEN" in s for s in moves), moves


def test_koubei_score_opens_the_database_once(tmp_path: Path, monkeypatch: Any) -> None:
    """Bug: `koubei score` opened and closed the database for every read and every batch; each
    close of a writer checkpoints (35 s of a 50,000-mention backlog's 202 s at 1M mentions)."""
    from typer.testing import CliRunner

    import storage.db
    from koubei.cli import app

    path = tmp_path / "k.duckdb"
    with open_store(path) as store:
        upsert_mentions(store, MENTIONS + COPIES)
    opened: list[tuple[str, bool]] = []
    connect = storage.db._connect

    def counting(at: str, read_only: bool, lock_timeout: float) -> Any:
        opened.append((at, read_only))
        return connect(at, read_only, lock_timeout)

    monkeypatch.setattr(storage.db, "_connect", counting)
    result = CliRunner().invoke(app, ["--db", str(path), "score", "--batch-size", "3", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert f"scored {len(MENTIONS + COPIES)} mentions" in result.output
    assert opened.count((str(path), False)) == 1  # besides reading the saved settings


def test_a_held_pass_leaves_its_checkpoint_to_its_close(tmp_path: Path) -> None:
    """Bug: a pass on one held connection kept DuckDB's 16 MB checkpoint threshold, so a 10k
    pass checkpointed inside two or three of its commits (one took 4.3 s at 1M mentions, load
    10), rewriting the same row groups each time; its close checkpoints anyway."""
    from storage.held import held

    path = tmp_path / "k.duckdb"
    with held(lambda: open_store(path)) as opener, opener() as store:
        threshold = store.query("SELECT current_setting('checkpoint_threshold')")[0][0]
    with open_store(path) as store:
        default = store.query("SELECT current_setting('checkpoint_threshold')")[0][0]
    assert (threshold, default) == ("953.6 MiB", "16.0 MiB")  # PASS_WAL (1 GB) during the pass; the default after


def test_a_run_pass_that_stores_new_mentions_loads_the_keyword_tables_while_it_scores(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Bug: each `koubei run` is a new process, and its first incident loaded jieba's dictionary
    and the IDF table on detection's path (2.9 s and 1.9 s at a load of 8). A pass that stored
    new mentions starts loading both in the background before scoring; a pass with nothing new
    does not. The tables are the same ones detection would load."""
    import sentiment.keywords as keywords
    from koubei.context import AppContext
    from koubei.pipeline import run_once

    started: list[bool] = []
    monkeypatch.setattr(keywords, "warm_in_background", lambda: started.append(True))
    config = tmp_path / "koubei.toml"
    config.write_text('[sources.demo]\ndays = 1\nend = "2026-11-20T12:00:00+08:00"\n', encoding="utf-8")
    ctx = AppContext(config_path=config, db=tmp_path / "k.duckdb")
    assert run_once(ctx, deliver=False).new_mentions > 0 and started == [True]
    assert run_once(ctx, deliver=False).new_mentions == 0 and started == [True]
    monkeypatch.undo()
    keywords.warm_in_background().join()
    assert keywords._load_idf.cache_info().currsize == 1 and keywords.ready().dt.initialized
    assert keywords._idf() is keywords._load_idf()


def test_duplicate_marking_looks_its_members_labels_up_by_key(tmp_path: Path) -> None:
    """Bug: grouping joined its changed groups' members to sentiment for their labels by a semi
    join, which read the sentiment table whole (1.4 s a pass at 10M mentions, load 7). Up to
    rollups.BY_INDEX members their labels are looked up through the native_id index."""
    summary, seen = score_recorded(tmp_path)
    assert summary.duplicates_excluded > 0
    labels = [s for s in reads(seen, "sentiment") if "label" in s and "mention_flags" not in s and "INSERT" not in s]
    assert labels and all("native_id IN (SELECT unnest($ids" in s for s in labels), labels
