"""Readers never wait near the lock limit while a large import writes: real processes, a real file.

DuckDB locks the whole file while a process has it open for writing, so a
reader waits for the writer's whole connection. The import writes in bounded
batches (storage/batches.py) and storage/db.py lets waiting readers go first.
The measurement is benchmarks/bench_readers.py's, on fewer rows (the benchmark
runs 500k and 1M).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_readers import import_while_reading
from storage import count_mentions, open_store

ROWS = 220_000  # today's main held the file 3-5 s in one transaction for this many; the fix well under 1 s
SLOWEST_ALLOWED = 2.0  # seconds; the dashboard gives up after 10


# On the browser tests' worker: the two heaviest multi-process tests never share a 2-core machine's CPUs,
# which would stretch every hold of the file this test times.
@pytest.mark.xdist_group("browser")
def test_a_reader_never_waits_long_while_a_large_import_writes(tmp_path: Path) -> None:
    """Regression (issue 17, item 12): while a 500k-row import ran, the slowest dashboard read
    waited 9.95 s of its 10 s lock timeout (one read in 51 failed at 1M rows): the import wrote
    every row in one transaction, holding the file throughout."""
    measured = import_while_reading(tmp_path, ROWS)
    print(measured.line())
    assert measured.import_returncode == 0, measured.import_output
    assert measured.failures == []
    assert len(measured.waits) >= 20, "the reader must have read throughout the import"
    assert measured.slowest < SLOWEST_ALLOWED, measured.line()
    with open_store(tmp_path / "k.duckdb", read_only=True) as store:
        assert count_mentions(store) == ROWS
