"""`koubei report` and `koubei export` as a user runs them (real processes on the demo database)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

KOUBEI = str(Path(sys.executable).with_name("koubei"))


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KOUBEI, "--db", str(db), *args], capture_output=True, text=True, timeout=180)


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the shared demo database: `koubei report` and `export` record themselves in the audit
    trail, a write, and the shared file is only ever read (tests/reports/test_facts.py reads it without
    waiting for a lock; it failed on one of these commands' writes)."""
    copy = tmp_path / "koubei.duckdb"
    shutil.copy(demo_db, copy)
    return copy


def test_export_writes_every_row_and_says_how_many(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "neg.jsonl"
    done = _run(
        db, "export", "--format", "jsonl", "--period", "2026-11-14..2026-11-20", "--label", "neg", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        expected = con.execute("SELECT count(*) FROM sentiment WHERE label = 'neg'").fetchall()[0][0]
    assert f"{expected:,} rows" in done.stdout
    assert len(out.read_text(encoding="utf-8").splitlines()) == expected + 1  # and the count line


def test_report_writes_a_self_contained_html(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    done = _run(db, "report", "--period", "2026-11-17..2026-11-20", "--brand", "声浪", "--lang", "en", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "Review summary: 声浪" in out.read_text(encoding="utf-8") and "html report" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--period", "fortnight", "-o", "x.html"], "period 'fortnight'"),
        (["report", "--period", "week", "--format", "docx", "-o", "x"], "'docx' is not one of html, pdf"),
        (["export", "--period", "week", "--what", "incidents", "--label", "neg", "-o", "x"], "--label applies"),
    ],
)
def test_wrong_usage_is_one_line_and_exit_2(demo_db: Path, tmp_path: Path, args: list[str], message: str) -> None:
    done = subprocess.run(
        [KOUBEI, "--db", str(demo_db), *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_cli_export_and_report_are_in_the_audit_trail(db: Path, tmp_path: Path) -> None:
    """Issue 16 part 3: exports of mentions are audited; the dashboard's were, the CLI's were not."""
    out = tmp_path / "all.csv"
    assert _run(db, "export", "--period", "2026-11-14..2026-11-20", "--brand", "声浪", "-o", str(out)).returncode == 0
    report = tmp_path / "r.html"
    assert _run(db, "report", "--period", "2026-11-17..2026-11-20", "-o", str(report)).returncode == 0
    done = _run(db, "audit", "--json")
    assert done.returncode == 0, done.stderr
    logged = [json.loads(line) for line in done.stdout.splitlines()]
    exports = [e for e in logged if e["action"] == "export" and e["detail"]["file"] == str(out)]
    assert len(exports) == 1 and exports[0]["origin"].startswith("koubei export@")
    assert exports[0]["detail"]["brands"] == ["声浪"] and exports[0]["detail"]["rows"] > 0
    assert [
        e["detail"]["format"] for e in logged if e["action"] == "report" and e["detail"]["file"] == str(report)
    ] == ["html"]


def test_report_names_aspects_as_the_config_it_was_given_says(db: Path, tmp_path: Path) -> None:
    """`koubei --config FILE report` wrote the aspects with the names of the koubei.toml found by
    default (./koubei.toml), not of FILE: the report's aspects now come from the settings read."""
    config = tmp_path / "koubei.toml"
    config.write_text('[sentiment.aspect_names]\n"物流" = { en = "shipping and courier" }\n', encoding="utf-8")
    out = tmp_path / "r.html"
    args = ["report", "--period", "2026-11-17..2026-11-20", "--brand", "声浪", "--lang", "en", "-o", str(out)]
    done = subprocess.run(
        [KOUBEI, "--db", str(db), "--config", str(config), *args], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "shipping and courier" in out.read_text(encoding="utf-8")
    default = _run(db, *args)
    assert default.returncode == 0, default.stderr
    assert "shipping and courier" not in out.read_text(encoding="utf-8") and "delivery" in out.read_text(
        encoding="utf-8"
    )
