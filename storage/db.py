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

import atexit
import json
import os
import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from koubei.config import LAKE_ADDRESS
from koubei.errors import KoubeiError
from koubei.redaction import redact, remember

if TYPE_CHECKING:
    from storage.keys import KeyChain

MIGRATIONS_PACKAGE = "storage.migrations"
FILE = "duckdb"
LAKE = "ducklake"
BACKENDS = (FILE, LAKE)
LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")


class StorageError(KoubeiError):
    """The database could not be opened or migrated."""


class WriteConflict(StorageError):
    """Another process changed the same rows of the lake first: this unit of work was rolled
    back whole and can be done again."""


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


@dataclass(frozen=True)
class LakeLocation:
    """Where a DuckLake lives: its catalog in PostgreSQL (a libpq DSN) and its Parquet data
    in a folder every worker reaches (a shared mount, or an s3:// prefix)."""

    catalog_dsn: str
    data_path: str

    def __post_init__(self) -> None:
        # The DSN may hold the catalog's password, and DuckDB's and libpq's errors quote the DSN
        # or pieces of it: every message koubei shows or logs goes through redact, which masks
        # what it was told to remember.
        remember(self.catalog_dsn)
        password = self.conninfo().get("password", "")
        for part in (password, *password.split()):
            remember(part)

    def conninfo(self) -> dict[str, str]:
        """The DSN's parameters (host, dbname, user, password ...); empty when it does not parse."""
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        try:
            fields = conninfo_to_dict(self.catalog_dsn)  # key=value pairs or a postgresql:// URI
        except psycopg.ProgrammingError:  # a malformed DSN: connecting says so (hidden, see hide)
            return {}
        return {key: str(value) for key, value in fields.items()}

    def __str__(self) -> str:
        # What messages show: the catalog's database and host, never a password from the DSN.
        fields = self.conninfo()
        return f"ducklake:postgres:{fields.get('dbname', '?')}@{fields.get('host', 'localhost')} ({self.data_path})"

    def __repr__(self) -> str:
        return f"LakeLocation({self})"  # the dataclass's own would print the DSN with its password

    def hide(self, text: object) -> str:
        """`text` (an error of DuckDB, libpq or psycopg about this lake) without the catalog's
        password: the whole DSN, the password and any `password=` pair masked."""
        return redact(str(text).replace(self.catalog_dsn, str(self)))

    @property
    def address(self) -> str:
        """The lake as one string, for what passes a database around as text (the dashboard's
        $KOUBEI_DB and its cache keys): `open_store` takes it back. Holds the DSN as given."""
        return LAKE_ADDRESS + json.dumps([self.catalog_dsn, self.data_path])

    @classmethod
    def from_address(cls, address: str) -> LakeLocation:
        try:
            dsn, data_path = json.loads(address.removeprefix(LAKE_ADDRESS))
        except (ValueError, TypeError) as exc:
            raise StorageError(f"not a lake address: expected {LAKE_ADDRESS}[catalog DSN, data path]") from exc
        return cls(str(dsn), str(data_path))


def location_of(path: str | Path | LakeLocation) -> str | Path | LakeLocation:
    """A lake's address as its LakeLocation; a file's path as given."""
    if isinstance(path, str) and path.startswith(LAKE_ADDRESS):
        return LakeLocation.from_address(path)
    return path


LAKE_EXTENSIONS = ("ducklake", "postgres_scanner")
LAKE_ALIAS = "lake"  # what a process attaches a lake as
LAKE_METADATA_SCHEMA = "koubei_lake"  # the PostgreSQL schema of the lake's catalog tables
# The catalog's own tables (ducklake_data_file, ducklake_delete_file, ...) as DuckDB reaches them.
LAKE_METADATA = f"__ducklake_metadata_{LAKE_ALIAS}.{LAKE_METADATA_SCHEMA}"
# No rows or deletes kept in the catalog instead of Parquet files: every delete is a Parquet
# delete file. DuckLake's default (10) stores a delete of up to 10 rows in the catalog, and
# its commit check does not compare those with a concurrent delete file of the same data file
# (duckdb/ducklake#1215, open in the 1.5.5 extension): two workers dequeuing the same queued
# key both committed, the row came back in scans, and count(*), which DuckLake answers from
# file statistics, counted it twice and went negative ("INT128 value -120 can't be cast to
# UINT64"). Delete files of one data file do conflict: the later commit is a WriteConflict.
DATA_INLINING_ROW_LIMIT = 0
# DuckLake keeps no indexes, primary keys or sequences: the migrations are written for the
# single file and lose these clauses on the lake, where storage/ merges by key instead.
_LAKE_DROPPED = (
    re.compile(r",\s*PRIMARY KEY\s*\([^)]*\)", re.IGNORECASE),
    re.compile(r"\bPRIMARY KEY\b", re.IGNORECASE),
    re.compile(r"\bUSING COMPRESSION \w+", re.IGNORECASE),
    re.compile(r"\bDEFAULT nextval\('[^']*'\)", re.IGNORECASE),
    re.compile(r"^\s*(CREATE|DROP) (INDEX|SEQUENCE) [^;]*;", re.IGNORECASE | re.MULTILINE),
)


def lake_dialect(sql: str) -> str:
    """A migration as DuckLake takes it: comments out, then no keys, indexes or sequences."""
    sql = re.sub(r"--[^\n]*", "", sql)
    for clause in _LAKE_DROPPED:
        sql = clause.sub("", sql)
    return sql


def literal(text: str) -> str:
    """`text` as a quoted SQL string literal, for statements that take no parameters (ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


_lakes: dict[LakeLocation, duckdb.DuckDBPyConnection] = {}
_lakes_lock = threading.Lock()


_passfiles: dict[str, str] = {}
_passfiles_lock = threading.Lock()


def _passfile(password: str) -> str:
    """A libpq password file (mode 0600, deleted when the process exits) that gives `password`
    for any server."""
    with _passfiles_lock:
        if password not in _passfiles:
            handle, name = tempfile.mkstemp(prefix="koubei-pgpass-")  # readable by this user only
            escaped = password.replace("\\", "\\\\").replace(":", "\\:")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(f"*:*:*:*:{escaped}\n")
            atexit.register(Path(name).unlink, missing_ok=True)
            _passfiles[password] = name
        return _passfiles[password]


def _duckdb_dsn(location: LakeLocation) -> str:
    """The catalog's DSN as DuckDB gets it: without the password, which libpq reads from a
    password file instead. DuckDB's errors quote the DSN whole ('Unable to connect to Postgres
    at "host=... password=..."'), also from any query once the catalog goes away, where no
    handler of koubei's sees the message before a traceback, a log or the dashboard does."""
    from psycopg.conninfo import make_conninfo

    fields = location.conninfo()
    password = fields.pop("password", "")
    if not password:
        return location.catalog_dsn
    return make_conninfo("", **fields, passfile=_passfile(password))


def _attach_lake(location: LakeLocation) -> duckdb.DuckDBPyConnection:
    from duckdb_extensions import import_extension

    con = duckdb.connect()
    for extension in LAKE_EXTENSIONS:
        import_extension(extension, con=con)
        con.execute(f"LOAD {extension}")
    # The first ATTACH of a new lake creates its catalog: one process at a time, as migrating.
    with _migration_lock(location):
        try:
            # ATTACH takes no parameters: the two strings go in as quoted literals.
            con.execute(
                f"ATTACH {literal('ducklake:postgres:' + _duckdb_dsn(location))} AS {LAKE_ALIAS}"
                f" (DATA_PATH {literal(location.data_path)}, METADATA_SCHEMA '{LAKE_METADATA_SCHEMA}',"
                f" DATA_INLINING_ROW_LIMIT {DATA_INLINING_ROW_LIMIT})"
            )
        except duckdb.Error as exc:
            con.close()
            raise StorageError(f"cannot open the lake {location}: {location.hide(exc)}") from None
        con.execute("USE lake")
        _migrate(con, LAKE)
    return con


def _connect_lake(location: LakeLocation) -> duckdb.DuckDBPyConnection:
    """A connection of this process's one attachment of the lake. Loading the extensions and
    attaching take about 2 s, so a process does it (and migrates) once; each Store gets its
    own cursor, a connection with its own transactions on the shared attachment."""
    with _lakes_lock:
        if location not in _lakes:
            _lakes[location] = _attach_lake(location)
        base = _lakes[location]
    cursor = base.cursor()
    cursor.execute("USE lake")
    cursor.execute("SET enable_progress_bar = false")  # DuckDB draws one on slow lake reads
    return cursor


def detach(location: LakeLocation) -> None:
    """Close this process's attachment of a lake (the next open attaches again): PostgreSQL
    copies or drops a catalog's database only while nobody is connected to it."""
    with _lakes_lock:
        con = _lakes.pop(location, None)
    if con is not None:
        con.close()


@contextmanager
def _advisory_lock(location: LakeLocation, name: str) -> Iterator[None]:
    """One process at a time, on every machine: a PostgreSQL advisory lock on the catalog,
    released when its session closes, also when the process dies."""
    import psycopg

    try:
        con = psycopg.connect(location.catalog_dsn, autocommit=True)
    except psycopg.Error as exc:
        raise StorageError(f"cannot reach the lake's catalog {location}: {location.hide(exc)}") from None
    with con:
        con.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
        yield


def _migration_lock(location: LakeLocation) -> AbstractContextManager[None]:
    """One process at a time migrates a lake (workers start together)."""
    return _advisory_lock(location, "koubei-migrate")


class _WriteTurn:
    """One write transaction at a time on a lake, across processes and machines.

    DuckLake (the 1.5.5 extension) lets concurrent commits that delete from one data file
    all succeed when that file has a delete file already: each writes its own, and count(*)
    (answered from the files' statistics) subtracts every one, going below zero ("INT128
    value -120 can't be cast to UINT64" over score_queue while workers dequeued), while scans
    bring deleted rows back. A transaction that begins after the last commit is checked
    correctly, so writers take turns: analysis, collecting and reading stay parallel, the
    writes (a few tenths of a second each) do not. Reentrant within a thread (a transaction
    of one Store inside another's); the threads of a process take turns too."""

    def __init__(self, location: LakeLocation) -> None:
        self.location = location
        self.lock = threading.RLock()
        self.depth = 0
        self.held = ExitStack()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if self.depth == 0:
                self.held.enter_context(_advisory_lock(self.location, "koubei-write"))
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.held.close()


_write_turns: dict[LakeLocation, _WriteTurn] = {}


def _write_turn(location: LakeLocation) -> _WriteTurn:
    with _lakes_lock:
        return _write_turns.setdefault(location, _WriteTurn(location))


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


def _migrate(con: duckdb.DuckDBPyConnection, backend: str) -> None:
    dialect = lake_dialect if backend == LAKE else str
    con.execute(
        dialect(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    pending = [(version, name, sql) for version, name, sql in migration_files() if version not in applied]
    # Each commit to a lake is a round of catalog queries (about 0.5 s): a new lake takes
    # all its migrations in one transaction; the file commits each on its own.
    steps = [pending] if backend == LAKE else [[migration] for migration in pending]
    for step in steps:
        if not step:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for version, name, sql in step:
                try:
                    con.execute(dialect(sql))
                except duckdb.Error as exc:
                    raise StorageError(f"migration {name} failed: {exc}") from exc
                con.execute("INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


_LOG_RANDOM_BITS = 11  # below the microseconds: ids stay under 2**63 until the year 2112
_last_log_id = 0
_log_id_lock = threading.Lock()


def log_id() -> int:
    """A log row's id without a sequence: the microseconds since 1970 with random low bits, so
    processes that append to one lake order their rows by time and almost never share an id;
    increasing within a process even when the clock does not move."""
    global _last_log_id
    fresh = (time.time_ns() // 1000) << _LOG_RANDOM_BITS | random.getrandbits(_LOG_RANDOM_BITS)
    with _log_id_lock:
        _last_log_id = max(fresh, _last_log_id + 1)
        return _last_log_id


class Store:
    """One open connection to the koubei database. Use as a context manager.

    Code outside storage/ passes a Store to storage functions and never sees
    SQL, so the engine behind it can change.
    """

    def __init__(self, path: str | Path | LakeLocation, read_only: bool = False, lock_timeout: float = 30.0) -> None:
        path = location_of(path)
        self.path = str(path)
        self.read_only = read_only
        self.backend = LAKE if isinstance(path, LakeLocation) else FILE
        self.location = path if isinstance(path, LakeLocation) else None
        if isinstance(path, LakeLocation):
            # Many processes share a lake: no file lock to wait for; migrated on the
            # process's first open; a read-only Store simply never writes.
            self.con = _connect_lake(path)
        elif self.path != ":memory:":
            db_file = Path(self.path)
            if read_only and not db_file.exists():
                raise StorageError(f"no database at {db_file}: run `koubei run` (or `make run`) first")
            db_file.parent.mkdir(parents=True, exist_ok=True)
            self.con = _connect(self.path, read_only, lock_timeout)
        else:
            self.con = duckdb.connect(self.path)
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only and self.backend == FILE:
            _migrate(self.con, self.backend)
        self._chain: KeyChain | None = None

    def _hide(self, text: object) -> str:
        return self.location.hide(text) if self.location is not None else str(text)

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

    def write_turn(self) -> AbstractContextManager[None]:
        """On a lake, this process's turn to write (_WriteTurn): for what commits on its own,
        outside `transaction` (DuckLake's maintenance calls). Nothing to wait for on the file."""
        return _write_turn(self.location)() if self.location is not None else nullcontext()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: a failure inside leaves the database as it was. On a lake, after
        the writes of other processes' transactions (_WriteTurn)."""
        with self.write_turn():
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield self.con
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            try:
                self.con.execute("COMMIT")
            except duckdb.TransactionException as exc:
                raise WriteConflict(f"{self.path}: {self._hide(exc)}") from None

    def upsert(
        self,
        table: str,
        key: Sequence[str],
        rows: str,
        updates: str | None = None,
        params: Sequence[Any] | dict[str, Any] | None = None,
        unkeyed: bool = False,
    ) -> None:
        """Merge the rows of the query `rows` (its columns named as the table's) into `table`
        by `key`: a stored key gets `updates` (a SET list that reads the new row as `excluded`
        and the stored one as `<table>`; None keeps the stored row), a new key is inserted.
        Idempotent on both backends: ON CONFLICT on the file's primary key, MERGE on the lake,
        which has no keys, and on a file table without one (`unkeyed`). Inside the caller's
        transaction."""
        if self.backend == FILE and not unkeyed:
            conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
            sql = f"INSERT INTO {table} BY NAME {rows} ON CONFLICT ({', '.join(key)}) {conflict}"
        else:
            on = " AND ".join(f"{table}.{column} = excluded.{column}" for column in key)
            matched = f" WHEN MATCHED THEN UPDATE SET {updates}" if updates else ""
            sql = f"MERGE INTO {table} USING ({rows}) AS excluded ON {on}{matched} WHEN NOT MATCHED THEN INSERT BY NAME"
        self.con.execute(sql, params)

    def append_log(self, table: str, row: dict[str, Any]) -> None:
        """Append `row` to an append-only log keyed by an `id` that orders it (audit_log,
        settings_history): the file's sequence numbers it; the lake has no sequences, so there
        the id is a time-ordered one that needs none (log_id). Inside the caller's transaction."""
        if self.backend == LAKE:
            row = {"id": log_id(), **row}
        columns = ", ".join(row)
        self.con.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()

    def frame(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """A query's result as a pandas DataFrame."""
        return self.con.execute(sql, params).df()


def open_store(path: str | Path | LakeLocation, read_only: bool = False, lock_timeout: float = 30.0) -> Store:
    return Store(path, read_only=read_only, lock_timeout=lock_timeout)
