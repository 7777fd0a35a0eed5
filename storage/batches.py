"""Long writes in bounded batches, so no process waits long for the file.

DuckDB locks the whole file for as long as a process has it open for writing
(storage/db.py), so a reader waits for the writer's whole connection, not one
transaction. A long write (`koubei forget`, a retention purge) therefore opens,
writes one batch, commits and closes, again and again (`koubei import` does the
same with fixed batches, collectors/file_import.py). The batch size adapts to how long each took, open and close (with its checkpoint)
included, aiming at HOLD_TARGET per connection whatever the machine and row
width; storage/db.py makes the readers that waited meanwhile go first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.db import Store

HOLD_TARGET = 0.2  # seconds a write connection aims to hold the file
FIRST_ROWS = 5_000
MIN_ROWS = 500
MAX_ROWS = 200_000


@dataclass
class BatchSizer:
    """How many rows the next batch takes, from how long the last ones held the file."""

    rows: int = FIRST_ROWS
    target: float = HOLD_TARGET
    slowest: float = 0.0  # the longest hold so far, for benchmarks and tests

    def record(self, rows: int, seconds: float) -> None:
        """One batch of `rows` held the file `seconds` (open, write and close)."""
        self.slowest = max(self.slowest, seconds)
        if rows <= 0:
            return
        rate = rows / max(seconds, 1e-3)
        # Halfway to what the last batch says, so one slow batch (a checkpoint) does not halve the next.
        wanted = (self.rows + rate * self.target) / 2
        self.rows = int(min(MAX_ROWS, max(MIN_ROWS, wanted)))


def repeat_bounded(open_store: Callable[[], Store], step: Callable[[Store, int], int]) -> int:
    """Call `step(store, limit)` (one batch, returning rows done) in a connection of its own each
    time, until it does nothing; returns the rows done."""
    sizer = BatchSizer()
    total = 0
    while True:
        with open_store() as store:
            started = time.perf_counter()  # after any wait for the file: only the hold sizes the batch
            done = step(store, sizer.rows)
        sizer.record(done, time.perf_counter() - started)
        total += done
        if done == 0:
            return total
