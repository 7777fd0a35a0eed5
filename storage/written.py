"""The ledger of files koubei wrote that may quote mentions: reports and exports on disk.

Each file is recorded with the span of publication times it may quote, so that
`koubei forget` (storage/forget.py) can delete every file that may hold an erased
mention. Files are matched by time alone, not by scope or content: a report's PDF
or an XLSX cannot be searched for a quote, and deleting a file too many is the
safe side of an erasure. Files written elsewhere (a download from the dashboard,
a copy) are recorded nowhere and out of reach.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from storage.db import Store, naive_utc

KINDS = ("report", "export", "scheduled-report")


def record_written(store: Store, path: Path, kind: str, covers_from: datetime, covers_to: datetime) -> None:
    """Record (or re-record, when a file is written again) a file and the times it may quote."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of written file {kind!r}; one of {', '.join(KINDS)}")
    store.upsert(
        "written_files",
        ("path",),
        "SELECT ? AS path, ? AS kind, ? AS covers_from, ? AS covers_to, now()::TIMESTAMP AS written_at,"
        " NULL AS erased_at",
        "kind = excluded.kind, covers_from = excluded.covers_from, covers_to = excluded.covers_to,"
        " written_at = excluded.written_at, erased_at = excluded.erased_at",
        [str(path.resolve()), kind, naive_utc(covers_from), naive_utc(covers_to)],
    )


def covering(store: Store, published: Iterable[datetime]) -> list[Path]:
    """The recorded files, not yet erased, that may quote a mention published at one of these times."""
    times = sorted({naive_utc(t) for t in published})
    if not times:
        return []
    store.con.execute("CREATE OR REPLACE TEMP TABLE koubei_erased_times (t TIMESTAMP)")
    store.con.executemany("INSERT INTO koubei_erased_times VALUES (?)", [[t] for t in times])
    paths = [
        Path(row[0])
        for row in store.query(
            "SELECT path FROM written_files w WHERE erased_at IS NULL AND EXISTS ("
            " SELECT 1 FROM koubei_erased_times e WHERE e.t >= w.covers_from AND e.t < w.covers_to) ORDER BY path"
        )
    ]
    store.con.execute("DROP TABLE koubei_erased_times")
    return paths


def erase_covering(store: Store, published: Iterable[datetime]) -> list[Path]:
    """Delete the recorded files that may quote a mention published at one of these times, and mark
    them erased; returns the files deleted (a file already gone is only marked)."""
    deleted = []
    for path in covering(store, published):
        if path.exists():
            path.unlink()
            deleted.append(path)
        store.con.execute("UPDATE written_files SET erased_at = now()::TIMESTAMP WHERE path = ?", [str(path)])
    return deleted
