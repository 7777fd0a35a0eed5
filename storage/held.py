"""One open of the database for a whole pass (`koubei run`, each `koubei watch` pass).

Every step of a pass (collect, score, detect, deliver) opens the store as it always has, with
`with open_store() as store:`; inside `held` those opens borrow the pass's one connection and
their close returns it. A pass used to open and close the file 15 times: each close of a writer
checkpoints (10.5 s of a 10k pass at 10M mentions, load 8) and each open starts with a cold
buffer pool. Readers still get their turn between two units of work: when a unit ends and
another process is waiting for the file (storage/db.py's waiting marks), the connection is
closed and the next unit opens it again, as every unit did before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from storage.db import FILE, Store, _others_waiting, waiting_dir

Opener = Callable[..., Store]
# A pass's writes stay in the write-ahead log until its close checkpoints them once: at the
# default 16 MB a 10k pass checkpointed inside two or three of its commits (up to 4.3 s each
# at 1M mentions, load 10), rewriting the same tables' last row groups and indexes each time.
PASS_WAL = "1GB"


class _Held:
    """The pass's connection, opened on first use, lent to each unit of work."""

    def __init__(self, open_store: Opener) -> None:
        self.open_store = open_store
        self.owner: Store | None = None
        self.lent = 0  # units of work under way (one may open the store inside another)

    def borrow(self, read_only: bool = False) -> Store:
        if self.owner is None:
            self.owner = self.open_store()
            if self.owner.backend == FILE:
                self.owner.con.execute(f"SET checkpoint_threshold = '{PASS_WAL}'")
        self.lent += 1
        return BorrowedStore(self.owner, self)

    def returned(self) -> None:
        self.lent -= 1
        owner = self.owner
        if self.lent == 0 and owner is not None and owner.backend == FILE and _others_waiting(waiting_dir(owner.path)):
            self.close()  # let the waiting reader in; the next unit opens again

    def close(self) -> None:
        if self.owner is not None:
            self.owner.close()
            self.owner = None


class BorrowedStore(Store):
    """A Store on the pass's connection; closing it returns the connection, open, to the pass."""

    def __init__(self, owner: Store, lender: _Held) -> None:  # no Store.__init__: nothing is opened
        self.__dict__.update(owner.__dict__)
        self._lender: _Held | None = lender

    def close(self) -> None:
        if self._lender is not None:
            self._lender.returned()
            self._lender = None


@contextmanager
def held(open_store: Opener) -> Iterator[Opener]:
    """An opener whose stores share one connection, closed when the block ends (or earlier,
    between two units of work, when another process waits for the file)."""
    lender = _Held(open_store)
    try:
        yield lender.borrow
    finally:
        lender.close()
