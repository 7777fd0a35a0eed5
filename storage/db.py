"""Opening the database: migrations on open, and the multi-process pattern.

DuckDB lets only one process hold a database file while it is open for
writing; another process cannot open it at all, not even read-only. koubei's
pattern is therefore *short-lived connections everywhere*: every writer
(collector batch, scorer, detector, a click in the dashboard) opens the file,
does one unit of work in a transaction and closes it; readers (the dashboard)
do the same with read-only connections. Whoever finds the file locked retries
with backoff until `lock_timeout`. Units of work are kept small (one page of
mentions, one scoring batch; a long write goes in bounded batches, see
storage/batches.py) so nobody waits long.

Retrying alone is not fair: a writer that closes and reopens at once nearly
always wins against a reader polling every few tens of milliseconds. So a
process that finds the file locked says so with a file in `<db>.waiting/`, and
every process about to open the file first lets those already waiting go
(for at most YIELD_MAX). Readers and writers take turns; nobody waits for more
than one unit of work of each process ahead of it.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from koubei.errors import KoubeiError

if TYPE_CHECKING:
    from storage.keys import KeyChain

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


POLL_MAX = 0.05  # longest sleep between two tries at a locked file
YIELD_MAX = 1.0  # longest an opener holds back for processes already waiting
WAITER_STALE = 1.0  # a waiter that has not tried again for this long has gone
T = TypeVar("T")


def waiting_dir(path: str) -> Path:
    return Path(path + ".waiting")


class _Waiter:
    """This process's "I am waiting for the file" mark, refreshed on every try, removed when done."""

    def __init__(self, path: str) -> None:
        self.folder = waiting_dir(path)
        self.name = f"{os.getpid()}-{threading.get_ident()}-{random.getrandbits(32):08x}"
        self.file: Path | None = None

    def touch(self) -> None:
        try:
            if self.file is None:
                self.folder.mkdir(exist_ok=True)
                self.file = self.folder / self.name
            self.file.touch()
        except OSError:  # a folder we may not write to (a read-only user): we still retry, just not first in line
            self.file = None

    def done(self) -> None:
        if self.file is not None:
            self.file.unlink(missing_ok=True)


def _others_waiting(folder: Path) -> bool:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    now = time.time()
    for entry in entries:
        try:
            if now - entry.stat().st_mtime < WAITER_STALE:
                return True
        except FileNotFoundError:  # it got its turn while we looked
            continue
    return False


def _let_waiters_go(path: str) -> None:
    deadline = time.monotonic() + YIELD_MAX
    folder = waiting_dir(path)
    while _others_waiting(folder) and time.monotonic() < deadline:
        time.sleep(0.002)


def retry_locked(path: str, lock_timeout: float, attempt: Callable[[], T]) -> T:
    """`attempt()` (an open or an ATTACH of `path`), retried while another process holds the file."""
    deadline = time.monotonic() + lock_timeout
    delay = 0.005
    waiter = _Waiter(path)
    _let_waiters_go(path)
    try:
        while True:
            try:
                return attempt()
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                if not _is_lock_error(exc):
                    raise StorageError(f"cannot open {path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise DatabaseBusy(f"{path} stayed locked by another process for {lock_timeout:.0f}s") from exc
            waiter.touch()
            # Jitter so that two waiting processes do not retry in lockstep.
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, POLL_MAX)
    finally:
        waiter.done()


# DuckDB 1.5 writes new files in the 1.0 storage format unless told otherwise, and that format
# silently ignores per-column compression (mentions.raw's zstd): new files get the current format.
STORAGE_VERSION = "v1.5.0"
NEWER_FILE_HINT = (
    "koubei runs on DuckDB 1.5.5 (the last release whose fts, ducklake and postgres extensions install "
    "offline; docs/architecture.md). A file written by a newer DuckDB cannot be read: export it with "
    "that DuckDB (EXPORT DATABASE 'dir') and load it here with IMPORT DATABASE, or delete a demo file "
    "so `make run` seeds it again"
)


def _create_file(path: str) -> None:
    duckdb.connect(path, config={"storage_compatibility_version": STORAGE_VERSION}).close()


def _connect(path: str, read_only: bool, lock_timeout: float) -> duckdb.DuckDBPyConnection:
    if not read_only and not Path(path).exists():
        retry_locked(path, lock_timeout, lambda: _create_file(path))
    try:
        return retry_locked(path, lock_timeout, lambda: duckdb.connect(path, read_only=read_only))
    except StorageError as exc:
        if "newer version of DuckDB" in str(exc):
            raise StorageError(f"{exc}\n{NEWER_FILE_HINT}") from exc
        raise


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
        self.con = (
            duckdb.connect(self.path) if self.path == ":memory:" else _connect(self.path, read_only, lock_timeout)
        )
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            _migrate(self.con)
        self._chain: KeyChain | None = None

    @property
    def author_chain(self) -> KeyChain:
        """The keys this database's author hashes are made with (storage/keys.py), loaded on first use."""
        if self._chain is None:
            from storage.keys import chain_for

            self._chain = chain_for(self)
        return self._chain

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
