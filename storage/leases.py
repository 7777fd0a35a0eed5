"""Leases for workers sharing a lake: a named piece of work (a source's run, a batch of the
score queue) is held by one worker until its lease expires.

The leases live in the lake's PostgreSQL catalog database, in a plain table with a primary
key: claiming is one transaction that locks the lease's row with `FOR UPDATE SKIP LOCKED`,
so two workers claiming at once never both win, and a row another worker is claiming is
skipped rather than waited for. A worker that dies keeps its lease only until it expires;
then any worker takes it over.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from storage.db import LakeLocation

_TABLE = (
    "CREATE TABLE IF NOT EXISTS koubei_leases ("
    " name TEXT PRIMARY KEY, holder TEXT, expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity')"
)


def _ensure_table(con: psycopg.Connection[tuple[object, ...]]) -> None:
    # CREATE TABLE IF NOT EXISTS races between sessions in PostgreSQL: one creator at a time.
    con.execute("SELECT pg_advisory_xact_lock(hashtext('koubei_leases'))")
    con.execute(_TABLE)
    con.commit()


def claim(lake: LakeLocation, name: str, holder: str, ttl: timedelta) -> bool:
    """Take the lease `name` for `ttl` if it is free or expired. Its holder too waits for the
    expiry (a source's run is claimed once per interval) unless it released it."""
    with psycopg.connect(lake.catalog_dsn) as con:
        _ensure_table(con)
        con.execute("INSERT INTO koubei_leases (name) VALUES (%s) ON CONFLICT DO NOTHING", [name])
        con.commit()
        free = con.execute(
            "SELECT name FROM koubei_leases WHERE name = %s AND expires_at < now() FOR UPDATE SKIP LOCKED",
            [name],
        ).fetchone()
        if free is None:
            return False
        con.execute(
            "UPDATE koubei_leases SET holder = %s, expires_at = now() + %s WHERE name = %s", [holder, ttl, name]
        )
    return True


def release(lake: LakeLocation, name: str, holder: str) -> None:
    """Give the lease back early (the work is done and may be taken again at once)."""
    with psycopg.connect(lake.catalog_dsn) as con:
        _ensure_table(con)
        con.execute(
            "UPDATE koubei_leases SET holder = NULL, expires_at = '-infinity' WHERE name = %s AND holder = %s",
            [name, holder],
        )
