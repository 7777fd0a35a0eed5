"""Opening the database: migrations on open, and the multi-process pattern.

DuckDB lets only one process hold a database file while it is open for
writing; another process cannot open it at all, not even read-only. koubei's
pattern is therefore *short-lived connections everywhere*: every writer
(collector batch, scorer, detector, a click in the dashboard) opens the file,
does one unit of work in a transaction and closes it; readers (the dashboard)
do the same with read-only connections. Whoever finds the file locked retries
with backoff until `lock_timeout`. Units of work are kept small (one page of
mentions, one scoring batch) so nobody waits long.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from koubei.errors import KoubeiError

MIGRATIONS_PACKAGE = "storage.migrations"
LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")


class StorageError(KoubeiError):
    """The database could not be opened or migrated."""


class DatabaseBusy(StorageError):
    """Another process held the database longer than the lock timeout."""


def naive_utc(moment: datetime) -> datetime:
    """A time as the database keeps it: naive UTC. A naive `moment` is taken to be UTC already."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _is_lock_error(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in LOCK_MARKERS)


def _connect(path: str, read_only: bool, lock_timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + lock_timeout
    delay = 0.005
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_error(exc):
                raise StorageError(f"cannot open {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise DatabaseBusy(f"{path} stayed locked by another process for {lock_timeout:.0f}s") from exc
            # Jitter so that two waiting processes do not retry in lockstep.
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.25)


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for each storage/migrations/NNN_name.sql, in order."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name[:-4], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise StorageError(f"two migrations share a number: {versions}")
    return found


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for version, name, sql in migration_files():
        if version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [version, name])
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise StorageError(f"migration {name} failed: {exc}") from exc


class Store:
    """One open connection to the koubei database. Use as a context manager.

    Code outside storage/ passes a Store to storage functions and never sees
    SQL, so the engine behind it can change.
    """

    def __init__(self, path: str | Path, read_only: bool = False, lock_timeout: float = 30.0) -> None:
        self.path = str(path)
        self.read_only = read_only
        if self.path != ":memory:":
            db_file = Path(self.path)
            if read_only and not db_file.exists():
                raise StorageError(f"no database at {db_file}: run `koubei run` (or `make run`) first")
            db_file.parent.mkdir(parents=True, exist_ok=True)
        self.con = _connect(self.path, read_only, lock_timeout)
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            _migrate(self.con)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: a failure inside leaves the database as it was."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()

    def frame(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """A query's result as a pandas DataFrame."""
        return self.con.execute(sql, params).df()


def open_store(path: str | Path, read_only: bool = False, lock_timeout: float = 30.0) -> Store:
    return Store(path, read_only=read_only, lock_timeout=lock_timeout)
