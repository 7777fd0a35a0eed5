"""Opening a lake from several processes at once (storage/db.py)."""

from __future__ import annotations

import subprocess
import sys

from storage.db import LakeLocation


def test_processes_opening_a_new_lake_at_once_all_succeed(lake: LakeLocation) -> None:
    """Regression: the first ATTACH of a new lake creates its catalog schema, and two processes
    doing it at once failed ("duplicate key value violates unique constraint
    pg_namespace_nspname_index"); the attach now runs under the migration lock."""
    code = (
        "import sys; from storage import open_store; from storage.db import LakeLocation;"
        "open_store(LakeLocation(sys.argv[1], sys.argv[2])).close()"
    )
    opening = [
        subprocess.Popen(
            [sys.executable, "-c", code, lake.catalog_dsn, lake.data_path], stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=300)[1] for p in opening]
    assert [p.returncode for p in opening] == [0, 0, 0, 0], errors
