"""The whole loop through the real `koubei` command: seed, run, exit codes scripts rely on."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from koubei.context import AppContext
from koubei.watch import watch

KOUBEI = [sys.executable, "-m", "koubei"]


def koubei(*args: str, config: Path, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KOUBEI_CONFIG": str(config), "KOUBEI_DB": str(db)}
    return subprocess.run([*KOUBEI, *args], capture_output=True, text=True, env=env, timeout=300)


def write_config(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "koubei.toml"
    path.write_text(sources, encoding="utf-8")
    return path


def test_seed_fills_an_empty_database_scores_and_flags_the_crisis(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[sources.demo]\ndays = 10\nseed = 7\nend = "2026-11-20T12:00:00+08:00"\n')
    db = tmp_path / "k.duckdb"
    first = koubei("seed", config=config, db=db)
    assert first.returncode == 0, first.stderr
    new = int(first.stdout.split(" new mentions")[0])
    assert new > 3000 and f"{new} scored" in first.stdout
    listed = koubei("incidents", "list", config=config, db=db)
    assert "声浪P20充电宝" in listed.stdout and "negative" in listed.stdout
    # A second seed keeps the data it finds: nothing new, nothing rescored.
    second = koubei("seed", config=config, db=db)
    assert second.returncode == 0 and second.stdout.startswith("database not empty")
    assert "0 scored" in second.stdout


def test_run_exits_1_only_when_every_source_failed(tmp_path: Path) -> None:
    dead = 'kind = "hackernews"\nkeywords = ["koubei"]\nbase_url = "http://127.0.0.1:9"\nretries = 0\nrobots = false\n'
    config = write_config(tmp_path, f"[sources.dead]\n{dead}")
    failed = koubei("run", "--no-alerts", config=config, db=tmp_path / "a.duckdb")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "1 failed (dead)" in failed.stdout
    mixed = write_config(
        tmp_path, f'[sources.dead]\n{dead}\n[sources.demo]\ndays = 1\nend = "2026-11-20T12:00:00+08:00"\n'
    )
    partial = koubei("run", "--no-alerts", config=mixed, db=tmp_path / "b.duckdb")
    assert partial.returncode == 0, partial.stdout + partial.stderr
    assert "1 failed (dead)" in partial.stdout


def test_bad_config_is_exit_2_with_the_file_named(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[sources.demo\n")
    result = koubei("run", config=config, db=tmp_path / "c.duckdb")
    assert result.returncode == 2
    assert str(config) in result.stderr


STAGE_SECONDS = (
    r"collect [\d.]+s, pending [\d.]+s, scoring [\d.]+s, writing [\d.]+s, duplicates [\d.]+s, detect [\d.]+s"
)


def test_run_verbose_prints_each_stage_seconds(tmp_path: Path) -> None:
    """Issue 18, item 4: where a pass spends its time, per stage."""
    config = write_config(tmp_path, '[sources.demo]\ndays = 1\nend = "2026-11-20T12:00:00+08:00"\n')
    result = koubei("run", "--no-alerts", "--verbose", config=config, db=tmp_path / "v.duckdb")
    assert result.returncode == 0, result.stderr
    assert re.search(rf"^stages: {STAGE_SECONDS}$", result.stdout, re.MULTILINE), result.stdout
    quiet = koubei("run", "--no-alerts", config=config, db=tmp_path / "v.duckdb")
    assert "stages:" not in quiet.stdout


def test_watch_log_line_gives_each_stage_seconds(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[sources.demo]\ndays = 1\nend = "2026-11-20T12:00:00+08:00"\n')
    lines: list[str] = []
    watch(
        AppContext(config_path=config, db=tmp_path / "w.duckdb"), max_passes=1, log=lines.append, install_signals=False
    )
    passes = [line for line in lines if line.startswith("watch: pass 1")]
    assert passes and re.search(rf"\[{STAGE_SECONDS}, deliver [\d.]+s\]$", passes[0]), lines


def _sorted_through(db: Path) -> tuple[int, int]:
    """(sorted_through, the highest doc) of the full-text index."""
    from storage import open_store

    with open_store(db, read_only=True) as store:
        row = store.query("SELECT (SELECT sorted_through FROM search_index_state), max(doc) FROM search_docs")[0]
    return int(row[0]), int(row[1])


def test_a_pass_sorts_an_index_tail_over_the_threshold_and_leaves_a_smaller_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 (round 28): a store that collects keeps its postings sorted with no rebuild-index."""
    import storage.textindex

    config = write_config(tmp_path, '[sources.demo]\ndays = 1\nend = "2026-11-20T12:00:00+08:00"\n')
    small, large = tmp_path / "small.duckdb", tmp_path / "large.duckdb"
    lines: list[str] = []
    watch(AppContext(config_path=config, db=small), max_passes=1, log=lines.append, install_signals=False)
    assert "sort index" not in lines[-1] and _sorted_through(small)[0] == 0, lines  # below TAIL_DOCS: left alone
    monkeypatch.setattr(storage.textindex, "TAIL_DOCS", 100)
    watch(AppContext(config_path=config, db=large), max_passes=1, log=lines.append, install_signals=False)
    passes = [line for line in lines if line.startswith("watch: pass 1")]
    assert re.search(r", sort index [\d.]+s\]$", passes[-1]), lines
    through, last = _sorted_through(large)
    assert last > 100 and through == last
