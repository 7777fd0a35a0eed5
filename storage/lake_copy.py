"""Copying a single-file database into a lake (`koubei migrate --to ducklake`), verified per
table by row count and a content hash computed on both sides."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from storage.db import LakeLocation, StorageError, literal, migration_files, open_store

SKIPPED = ("schema_migrations",)  # each side keeps its own record of its migrations


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    content_hash: int  # sum of the rows' hashes over their values as text: order-free
    check_seconds: float  # spent hashing the table on both sides


class CopyMismatch(StorageError):
    """A table read back from the lake differs from the file: the copy was rolled back."""


def _fingerprint(con: object, table: str, columns: list[str]) -> tuple[int, int]:
    values = ", ".join(f'"{c}"::VARCHAR' for c in columns)
    row = con.execute(f"SELECT count(*), coalesce(sum(hash({values})::HUGEINT), 0) FROM {table}").fetchone()  # type: ignore[attr-defined]
    return int(row[0]), int(row[1])


def file_is_current(file: Path) -> bool:
    """Whether the DuckDB file `file` has every migration (read only)."""
    with open_store(file, read_only=True) as store:
        applied = {int(v) for (v,) in store.query("SELECT version FROM schema_migrations")}
    return {version for version, _, _ in migration_files()} <= applied


def _migrate_file(file: Path) -> None:
    """Bring `file` to the schema the lake has; a file already there is only read, so a copy can
    be taken from a file that others hold open read-only (a live dashboard, a shared store)."""
    if not file_is_current(file):
        with open_store(file):
            pass


def copy_to_lake(file: Path, lake: LakeLocation) -> list[TableCopy]:
    """Replace every table of `lake` with the same table of the DuckDB file `file` (both
    migrated first), in one transaction that commits only if each table's count and content
    hash read back from the lake equal the file's."""
    if not file.exists():
        raise StorageError(f"no database at {file} to copy")
    _migrate_file(file)
    copied: list[TableCopy] = []
    with open_store(lake) as store:
        con = store.con
        con.execute(f"ATTACH {literal(str(file))} AS koubei_file (READ_ONLY)")
        try:
            tables = [
                str(name)
                for (name,) in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'koubei_file' ORDER BY table_name"
                ).fetchall()
                if name not in SKIPPED
            ]
            with store.transaction():
                for table in tables:
                    columns = [
                        str(c)
                        for (c,) in con.execute(
                            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'koubei_file'"
                            " AND table_name = ? ORDER BY column_index",
                            [table],
                        ).fetchall()
                    ]
                    names = ", ".join(f'"{c}"' for c in columns)
                    con.execute(f"DELETE FROM lake.main.{table}")
                    con.execute(f"INSERT INTO lake.main.{table} ({names}) SELECT {names} FROM koubei_file.main.{table}")
                    started = time.perf_counter()
                    source = _fingerprint(con, f"koubei_file.main.{table}", columns)
                    target = _fingerprint(con, f"lake.main.{table}", columns)
                    check_seconds = time.perf_counter() - started
                    if source != target:
                        raise CopyMismatch(
                            f"{table}: the file has {source[0]} rows (hash {source[1]}), the lake read back"
                            f" {target[0]} (hash {target[1]}); nothing was copied"
                        )
                    copied.append(TableCopy(table, *source, check_seconds))
        finally:
            con.execute("DETACH koubei_file")
    return copied
