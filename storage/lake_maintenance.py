"""Keeping a lake healthy: compaction and a check of its catalog (`koubei lake compact` and
`koubei lake check`, docs/operations.md).

DuckLake never changes a file it wrote: every commit adds Parquet data files, delete files and
a snapshot, and keeps what it replaced for time travel. A worker that writes every few seconds
leaves thousands of small files, and every read opens them all. `compact_lake` runs DuckLake's
own maintenance under the lake's write turn, so no worker commits in between: files that lost
most of their rows are rewritten without them, small files are merged, snapshots older than
`keep` are expired and the files nobody refers to any more are deleted. Koubei never reads an
old snapshot; `keep` is there for the reader still scanning the files a compaction replaced.

`check_lake` finds the damage DuckLake 1.5.5 did before koubei's writes took turns
(storage.db._WriteTurn): two live delete files on one data file, after which count(*), taken
from the files' statistics, subtracts both, and a scan brings rows back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb

from storage.compact import compact
from storage.db import LAKE_ALIAS, LAKE_METADATA, LakeLocation, StorageError, Store, open_store

KEEP = timedelta(hours=1)  # snapshots and replaced files younger than this stay
# A data file is rewritten without its deleted rows (and loses its delete file) once this share
# of its rows is deleted. Merging skips files with deletes, and a worker's updates leave small
# files with a few: DuckLake's default (0.95) would keep them and their delete files for ever.
# Rewriting a large file with a tenth of it deleted is still cheaper than reading both each time.
REWRITE_SHARE = 0.1
REPAIR = (
    "repair: stop every worker and dashboard, keep the broken catalog (pg_dump) and its data folder,"
    " then rebuild the lake in a new catalog database and data folder from the last single-file"
    " backup with `koubei migrate --to ducklake` (docs/operations.md, 'Checking a lake'). Do not"
    " compact it first: DuckLake's rewrite applies only one of the delete files, and the rows"
    " the other deleted come back for good"
)


class LakeDamaged(StorageError):
    """The lake's catalog holds what DuckLake cannot read back correctly."""


@dataclass(frozen=True)
class LakeFiles:
    """What a lake's catalog holds now."""

    data_files: int  # live Parquet data files
    delete_files: int  # live delete files
    snapshots: int
    waiting_deletion: int  # replaced files the next cleanup deletes
    on_disk: int | None  # files under a local data path (None for object storage)

    def line(self) -> str:
        disk = "" if self.on_disk is None else f", {self.on_disk} files on disk"
        return (
            f"{self.data_files} data files, {self.delete_files} delete files, {self.snapshots} snapshots,"
            f" {self.waiting_deletion} files waiting for deletion{disk}"
        )


@dataclass(frozen=True)
class Compaction:
    before: LakeFiles
    after: LakeFiles


def _lake(store: Store) -> str:
    if store.location is None:
        raise StorageError(f"{store.path} is not a lake: `koubei compact` rewrites a single file")
    return store.location.data_path


def _count(store: Store, sql: str) -> int:
    return int(store.query(sql)[0][0])


def lake_files(store: Store) -> LakeFiles:
    data_path = _lake(store)
    local = Path(data_path)
    on_disk = None if "://" in data_path else sum(1 for f in local.rglob("*") if f.is_file())
    return LakeFiles(
        data_files=_count(store, f"SELECT count(*) FROM {LAKE_METADATA}.ducklake_data_file WHERE end_snapshot IS NULL"),
        delete_files=_count(
            store, f"SELECT count(*) FROM {LAKE_METADATA}.ducklake_delete_file WHERE end_snapshot IS NULL"
        ),
        snapshots=_count(store, f"SELECT count(*) FROM {LAKE_METADATA}.ducklake_snapshot"),
        waiting_deletion=_count(store, f"SELECT count(*) FROM {LAKE_METADATA}.ducklake_files_scheduled_for_deletion"),
        on_disk=on_disk,
    )


def overlapping_deletes(store: Store) -> list[tuple[str, int, int]]:
    """(table, data file id, live delete files) for each data file with more than one."""
    rows = store.query(
        f"SELECT t.table_name, d.data_file_id, count(*) FROM {LAKE_METADATA}.ducklake_delete_file d"
        f" JOIN {LAKE_METADATA}.ducklake_table t ON t.table_id = d.table_id AND t.end_snapshot IS NULL"
        " WHERE d.end_snapshot IS NULL GROUP BY ALL HAVING count(*) > 1 ORDER BY 1, 2"
    )
    return [(str(table), int(file), int(count)) for table, file, count in rows]


def _maintain(store: Store, keep: timedelta, rewrite_share: float) -> None:
    cutoff = f"now() - INTERVAL {int(keep.total_seconds())} SECOND"
    for call in (
        f"ducklake_rewrite_data_files('{LAKE_ALIAS}', delete_threshold => {float(rewrite_share)})",
        f"ducklake_merge_adjacent_files('{LAKE_ALIAS}')",
        f"ducklake_expire_snapshots('{LAKE_ALIAS}', older_than => {cutoff})",
        f"ducklake_cleanup_old_files('{LAKE_ALIAS}', older_than => {cutoff})",
        # Files of writes that never committed (a worker killed mid-write).
        f"ducklake_delete_orphaned_files('{LAKE_ALIAS}', older_than => {cutoff})",
    ):
        # Counted, not fetched: the calls return timestamps with time zones, which the
        # Python client converts only with pytz.
        store.query(f"SELECT count(*) FROM {call}")


def compact_lake(store: Store, keep: timedelta = KEEP, rewrite_share: float = REWRITE_SHARE) -> Compaction:
    """Rewrite, merge, expire and clean up `store`'s lake in this process's write turn. Refuses
    a lake with overlapping delete files (check_lake): compacting it would lose deletes."""
    before = lake_files(store)
    with store.write_turn():
        damaged = overlapping_deletes(store)
        if damaged:
            raise LakeDamaged(f"{store.path}: {_overlap_line(damaged)}; not compacted. {REPAIR}")
        _maintain(store, keep, rewrite_share)
    return Compaction(before, lake_files(store))


def compact_for_good(where: Path | LakeLocation) -> None:
    """After an erasure (`koubei forget`): no byte of a deleted row left anywhere. The file is
    copied into a new one (storage/compact.py); on a lake every data file with a deleted row is
    rewritten without it, and every older snapshot and every file replaced is deleted at once:
    until then the rows stayed readable in the Parquet files, marked deleted only."""
    if not isinstance(where, LakeLocation):
        compact(where)
        return
    with open_store(where) as store:
        compact_lake(store, keep=timedelta(0), rewrite_share=0.0)


def _overlap_line(damaged: list[tuple[str, int, int]]) -> str:
    tables = sorted({table for table, _, _ in damaged})
    return f"{len(damaged)} data files with more than one live delete file (tables {', '.join(tables)})"


def _table_problems(store: Store, table: str) -> list[str]:
    """count(*) (from the catalog's statistics) against a scan of the rows."""
    scanned = _count(store, f'SELECT coalesce(sum(1), 0) FROM "{table}"')  # sum(1) reads the rows
    try:
        counted = _count(store, f'SELECT count(*) FROM "{table}"')
    except duckdb.Error as exc:  # DuckLake's statistics gone below zero: "INT128 value -120 can't be cast to UINT64"
        return [f"{table}: count(*) fails ({exc}); a scan finds {scanned} rows"]
    if counted != scanned:
        return [f"{table}: count(*) says {counted} rows, a scan finds {scanned}"]
    return []


def check_lake(store: Store) -> list[str]:
    """What is wrong with `store`'s lake, one line each; empty when nothing is."""
    _lake(store)
    problems = []
    damaged = overlapping_deletes(store)
    if damaged:
        problems.append(_overlap_line(damaged))
    negative = store.query(
        f"SELECT t.table_name, s.record_count FROM {LAKE_METADATA}.ducklake_table_stats s"
        f" JOIN {LAKE_METADATA}.ducklake_table t ON t.table_id = s.table_id AND t.end_snapshot IS NULL"
        " WHERE s.record_count < 0 ORDER BY 1"
    )
    problems += [f"{table}: the catalog counts {count} rows" for table, count in negative]
    tables = store.query(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' ORDER BY 1",
        [LAKE_ALIAS],
    )
    for (table,) in tables:
        problems += _table_problems(store, str(table))
    return problems
