"""The PostgreSQL server tests run against is real (tests/postgres.py): it answers SQL and
enforces what PostgreSQL enforces, here row locks that `FOR UPDATE SKIP LOCKED` skips."""

from __future__ import annotations

import psycopg

from tests.postgres import PostgresServer


def test_server_answers_and_skips_locked_rows(postgres: PostgresServer) -> None:
    dsn = postgres.create_database("fixture_check")
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
        setup.execute("INSERT INTO jobs VALUES (1), (2)")
    with psycopg.connect(dsn) as first, psycopg.connect(dsn) as second:
        taken = first.execute("SELECT id FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED").fetchall()
        other = second.execute("SELECT id FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED").fetchall()
    assert (taken, other) == ([(1,)], [(2,)])
