"""Rows of a few mentions, found by key through the indexes on native_id (migration 190).

DuckDB answers a filter or join on (source, native_id) by scanning the whole table, and a filter
on native_id alone through its index only while the list of values is at most its
`dynamic_or_filter_threshold` (50) long: a longer list scans too. So keys go in slices of
KEYS_PER_LOOKUP, and the source is checked on the rows the index found.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from storage.db import Store

KEYS_PER_LOOKUP = 50
Key = tuple[str, str]  # source, native_id


def condition(name: str = "") -> str:
    """A condition on a table with source and native_id columns; its parameters are `key_params(..., name)`'s."""
    return (
        f"native_id IN (SELECT unnest($ids{name}))"
        f" AND list_contains($pairs{name}, {{'source': source, 'native_id': native_id}})"
    )


BY_KEY = condition()


def slices(keys: Sequence[Key]) -> Iterator[Sequence[Key]]:
    """The keys, at most KEYS_PER_LOOKUP at a time."""
    for start in range(0, len(keys), KEYS_PER_LOOKUP):
        yield keys[start : start + KEYS_PER_LOOKUP]


def key_params(keys: Sequence[Key], name: str = "") -> dict[str, object]:
    """The parameters of `condition(name)` for these keys (at most KEYS_PER_LOOKUP)."""
    return {
        f"ids{name}": [native_id for _, native_id in keys],
        f"pairs{name}": [{"source": source, "native_id": native_id} for source, native_id in keys],
    }


def lookup(select: str, keys: Sequence[Key]) -> tuple[str, dict[str, object]]:
    """One statement and its parameters: `select` (SQL whose `{by_key}` stands for the condition)
    for every slice of `keys`, UNION ALL'd, so each slice is an index lookup however many keys."""
    parts, params = [], {}
    for number, part in enumerate(slices(keys)):
        parts.append(select.format(by_key=condition(f"_{number}")))
        params.update(key_params(part, f"_{number}"))
    return " UNION ALL ".join(parts) or select.format(by_key="FALSE"), params


def into_temp(store: Store, into: str, columns: str, table: str, keys: Sequence[Key]) -> None:
    """Temp table `into`: `columns` of `table`'s rows for `keys`, through the native_id index. A
    statement of its own: inside a join or under a filter DuckDB pushes conditions into the lookup
    and scans the table once per slice instead."""
    sql, params = lookup(f"SELECT {columns} FROM {table} WHERE {{by_key}}", keys)
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS {sql}", params)


def rows_into_temp(store: Store, into: str, columns: str, table: str, keys_table: str, most: int) -> None:
    """Temp table `into`: `columns` of `table`'s rows for the (source, native_id) keys of `keys_table`:
    through the native_id index up to `most` keys in a database file; past that, or on the lake (no
    index: each slice of keys would scan the table), by one semi join, which reads the table's keys
    but hashes only the given ones."""
    from storage.db import FILE

    if store.backend == FILE and store.query(f"SELECT count(*) FROM {keys_table}")[0][0] <= most:
        keys = [(str(s), str(n)) for s, n in store.query(f"SELECT source, native_id FROM {keys_table}")]
        into_temp(store, into, columns, table, keys)
        return
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {into} AS SELECT {columns} FROM {table}"
        f" WHERE (source, native_id) IN (SELECT source, native_id FROM {keys_table})"
    )


def fetch(store: Store, columns: str, table: str, keys: Sequence[Key], most: int) -> list[tuple[Any, ...]]:
    """`columns` of `table`'s rows for `keys`: through the native_id index up to `most` keys in a
    database file; past it, or on the lake (no index), by one semi join on the keys, which reads the
    table's key columns once but hashes only the keys."""
    from storage.db import FILE

    if store.backend == FILE and len(keys) <= most:
        sql, params = lookup(f"SELECT {columns} FROM {table} WHERE {{by_key}}", keys)
        return store.query(sql, params)
    given = pa.table({"source": [s for s, _ in keys], "native_id": [n for _, n in keys]})
    store.con.register("koubei_fetch_keys", given)
    try:
        return store.query(
            f"SELECT {columns} FROM {table} WHERE (source, native_id) IN (SELECT source, native_id FROM koubei_fetch_keys)"
        )
    finally:
        store.con.unregister("koubei_fetch_keys")
