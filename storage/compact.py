"""Rewrite the database file so that deleted data is gone from the disk, not just from the tables.

DuckDB marks the blocks of deleted rows free and reuses them some day; until
then a name or a phone number that was deleted can still be read from the
file's bytes, and there is no setting that overwrites them. After an erasure
(or a purge) the whole database is therefore copied into a new file, which
holds only live rows, and the new file takes the old one's place.

The copy reads the old file through a read-only attach: the dashboard keeps
reading meanwhile (read-only opens share the file), writers wait for the copy
(a few seconds per million mentions). Swapping while the read-only hold is
still open means no writer can have opened the old file in between.
`transform` runs on the copy before it takes the old one's place, which is how
key rotation re-keys every stored hash without a long write lock.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from storage.db import STORAGE_VERSION, StorageError, Store, retry_locked

WAL_SUFFIX = ".wal"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _clean_close(path: Path, lock_timeout: float) -> None:
    """Open read-write and close: the close checkpoints, so no write-ahead log is left to pair with the copy."""
    Store(path, lock_timeout=lock_timeout).close()


def compact(path: str | Path, transform: Callable[[Store], None] | None = None, lock_timeout: float = 60.0) -> None:
    """Copy the live rows of `path` into a new file (running `transform` on it), then swap it in."""
    path = Path(path)
    rebuilt = path.with_name(path.name + ".rebuild")
    for leftover in (rebuilt, Path(str(rebuilt) + WAL_SUFFIX)):
        leftover.unlink(missing_ok=True)
    _clean_close(path, lock_timeout)
    con = duckdb.connect()
    try:
        retry_locked(
            str(path), lock_timeout, lambda: con.execute(f"ATTACH {_sql_string(str(path))} AS old (READ_ONLY)")
        )
        if Path(str(path) + WAL_SUFFIX).exists():
            # A writer crashed since our clean close: its log belongs to the old file, not to the copy.
            raise StorageError(f"{path}{WAL_SUFFIX} appeared during compaction; run the command again")
        con.execute(f"ATTACH {_sql_string(str(rebuilt))} AS rebuilt (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("COPY FROM DATABASE old TO rebuilt")
        con.execute("DETACH rebuilt")
        with Store(rebuilt) as store:
            if transform is not None:
                transform(store)
            store.con.execute("CHECKPOINT")
        os.chmod(rebuilt, stat.S_IMODE(path.stat().st_mode))
        os.replace(rebuilt, path)
    except BaseException:
        rebuilt.unlink(missing_ok=True)
        raise
    finally:
        con.close()


@dataclass(frozen=True)
class StorageBytes:
    """What a database file spends per mention (issue 18, item 6)."""

    mentions: int
    file_bytes: int
    text_bytes: int  # the mentions' texts, UTF-8, as written (before DuckDB compresses them)
    free_blocks: int
    total_blocks: int

    def per_mention(self, with_text: bool = True) -> float:
        spent = self.file_bytes if with_text else self.file_bytes - self.text_bytes
        return spent / max(self.mentions, 1)


def storage_bytes(path: str | Path) -> StorageBytes:
    """The file's size, its mentions and their text bytes, and its free blocks (read-only)."""
    path = Path(path)
    with Store(path, read_only=True) as store:
        mentions, text = store.query("SELECT count(*), coalesce(sum(strlen(text)), 0) FROM mentions")[0]
        free, total = store.query("SELECT free_blocks, total_blocks FROM pragma_database_size()")[0]
    return StorageBytes(int(mentions), path.stat().st_size, int(text), int(free), int(total))


FREE_SHARE = 0.25  # compact when more than this share of the file's blocks is free


def compact_if_fragmented(path: str | Path, share: float = FREE_SHARE) -> bool:
    """Compact `path` when more than `share` of its blocks are free (deletes, score rewrites and
    the duplicate index's churn free blocks DuckDB reuses only slowly: 30% of a 10M store's
    7.5 GB); whether it did. `koubei watch` calls it daily (koubei/retention.py), so the file
    stays compact without a person running anything."""
    if not Path(path).exists():
        return False
    spent = storage_bytes(path)
    if spent.free_blocks <= share * spent.total_blocks:
        return False
    compact(path)
    return True
