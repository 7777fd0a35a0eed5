"""Real `koubei` processes for the tests that kill, stop or race them, and reading their database meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from storage import DatabaseBusy, open_store

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def koubei(config: Path, db: Path, *args: str, prelude: str = "") -> subprocess.Popen[str]:
    """`koubei --config CONFIG --db DB ARGS...` as its own process, stdout and stderr piped.

    `prelude` is Python run before the CLI starts, in the same process (a test's setting
    of a module constant, when the command has no option for it)."""
    code = f"{prelude}\nfrom koubei.cli import run\nrun()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "--config", str(config), "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    """Wait for the process; its stdout, or a failure with both streams when it did not exit 0."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out}\n{err}"
    return out


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """A read while another process may be writing: read-only, retried while the writer holds the file."""
    while True:
        try:
            with open_store(db, read_only=True, lock_timeout=0.5) as store:
                return store.query(sql, list(params))
        except DatabaseBusy:
            continue


def scoring_progress(db: Path) -> tuple[int, int, int]:
    """(mentions, scored, mentions in a duplicate group) of a database being scored."""
    row = query(
        db,
        "SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM sentiment),"
        " (SELECT count(*) FROM mention_flags WHERE duplicate_group IS NOT NULL)",
    )[0]
    return int(row[0]), int(row[1]), int(row[2])


def wait_until(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.02) -> T:
    """Poll `check` until it returns a truthy value, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
