"""Claiming work among workers, whatever the backend: a source's run for one interval, one
bucket of the score queue. On the lake the claims are leases in PostgreSQL
(storage/leases.py); the single file is written by one process at a time anyway, so there
every claim is granted."""

from __future__ import annotations

from datetime import timedelta

from storage import leases
from storage.db import Store

SCORE_BUCKETS = 8  # the score queue is split by key hash, so up to this many workers score at once


def claim(store: Store, name: str, holder: str, ttl: timedelta) -> bool:
    """Whether `holder` may do the work `name` now; if so it is its own for `ttl`."""
    if store.location is None:
        return True
    return leases.claim(store.location, name, holder, ttl)


def release(store: Store, name: str, holder: str) -> None:
    if store.location is not None:
        leases.release(store.location, name, holder)
