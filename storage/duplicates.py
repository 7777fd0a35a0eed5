"""The duplicate index (migration 060): what a grouping pass matches new mentions against.

duplicate_pending holds the mentions scored since the last pass (storage/sentiment.py
writes them with their scores); duplicate_texts and duplicate_bands the grouped mentions of
the window. A pass reads its pending mentions, then only the index rows their text keys and
bands point at, so its cost follows the new mentions, not the window (sentiment/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pyarrow as pa

from storage import bykey
from storage.db import Store, naive_utc
from storage.rollups import BY_INDEX, changing

Mention = tuple[str, str, str | None, str, datetime]  # source, native_id, author_hash, text, published_at
TEXT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("seq", pa.int64()),
        ("published_at", pa.timestamp("us")),
        ("text_key", pa.int64()),
        ("representative", pa.bool_()),
        ("component", pa.int64()),
    ]
)
BAND_SCHEMA = pa.schema([("band", pa.int64()), ("source", pa.string()), ("native_id", pa.string())])
KEY_SCHEMA = pa.schema([("source", pa.string()), ("native_id", pa.string())])
GROUP_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("duplicate_group", pa.string()),
        ("duplicate_count", pa.int32()),
        ("excluded", pa.bool_()),
    ]
)


@contextmanager
def _registered(store: Store, name: str, table: pa.Table) -> Iterator[None]:
    store.con.register(name, table)
    try:
        yield
    finally:
        store.con.unregister(name)


def _keys(keys: Sequence[tuple[str, str]]) -> pa.Table:
    return pa.Table.from_pylist([{"source": s, "native_id": n} for s, n in keys], schema=KEY_SCHEMA)


def _values(values: Sequence[int]) -> pa.Table:
    return pa.table({"value": pa.array(list(values), pa.int64())})


def prune(store: Store, since: datetime | None) -> None:
    """Forget the index rows of mentions published before the window: new mentions are
    grouped with the window only."""
    if since is None:
        return
    with store.transaction() as con:
        con.execute(
            "DELETE FROM duplicate_bands WHERE (source, native_id) IN"
            " (SELECT source, native_id FROM duplicate_texts WHERE published_at < ?)",
            [naive_utc(since)],
        )
        con.execute("DELETE FROM duplicate_texts WHERE published_at < ?", [naive_utc(since)])


def pending(store: Store, since: datetime | None) -> tuple[list[Mention], list[tuple[str, str]]]:
    """The pending mentions of the window, in grouping order (first stored first), and the
    keys of every pending mention (the pass takes them off the list)."""
    window, params = _in_window(since)
    keys = store.query("SELECT DISTINCT source, native_id FROM duplicate_pending")
    mentions = store.query(
        "SELECT m.source, m.native_id, m.author_hash, m.text, m.published_at FROM mentions m"
        f" WHERE (m.source, m.native_id) IN (SELECT source, native_id FROM duplicate_pending){window}"
        " ORDER BY m.collected_at, m.source, m.native_id",
        params,
    )
    return mentions, keys


def indexed(store: Store, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(text_key, component) of those of `keys` the index holds."""
    with _registered(store, "koubei_keys", _keys(keys)):
        rows = store.query(
            "SELECT t.source, t.native_id, t.text_key, t.component FROM duplicate_texts t"
            " JOIN koubei_keys k USING (source, native_id)"
        )
    return {(s, n): (key, component) for s, n, key, component in rows}


def remove(store: Store, keys: Sequence[tuple[str, str]]) -> None:
    """Take `keys` out of the index (their text changed: they are grouped again)."""
    with _registered(store, "koubei_keys", _keys(keys)):
        for table in ("duplicate_bands", "duplicate_texts"):
            store.con.execute(f"DELETE FROM {table} WHERE (source, native_id) IN (SELECT * FROM koubei_keys)")


def representatives(store: Store, text_keys: Sequence[int]) -> list[tuple[int, int, int]]:
    """(text_key, seq, component) of the stored first mention of each of `text_keys`."""
    with _registered(store, "koubei_values", _values(text_keys)):
        return store.query(
            "SELECT text_key, seq, component FROM duplicate_texts"
            " WHERE representative AND text_key IN (SELECT value FROM koubei_values)"
        )


def _in_window(since: datetime | None) -> tuple[str, list[Any]]:
    """The condition that keeps a read of mentions m to the window: the index holds only the
    window's mentions (prune), and stored in publishing order the older row groups are skipped
    by their zone maps, so the read costs the window, not the whole store."""
    return ("", []) if since is None else (" AND m.published_at >= ?", [naive_utc(since)])


def _with_texts(
    store: Store, members: str, columns: str, tail: str, params: list[Any], joins: str = ""
) -> list[tuple[Any, ...]]:
    """`columns` of the index rows the query `members` selects (its columns: source, native_id,
    published_at and what `columns` names as k.*) joined to their mentions m (and `joins`), then `tail`.
    The mentions are read within the members' published_at range, which the table's zone maps
    answer (the window's bound alone read a month of texts at 10M: 1.7-2.0 s a query); read again
    without it when a member was not found there."""
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE koubei_members AS {members}", params)
    try:
        count, first, last = store.query("SELECT count(*), min(published_at), max(published_at) FROM koubei_members")[0]
        read = f"SELECT {columns} FROM koubei_members k JOIN mentions m USING (source, native_id){joins}"
        rows = store.query(f"{read} WHERE m.published_at BETWEEN ? AND ? {tail}", [first, last]) if count else []
        if len(rows) < count:
            rows = store.query(f"{read} {tail}")
        return rows
    finally:
        store.con.execute("DROP TABLE IF EXISTS koubei_members")


def bucket_members(store: Store, bands: Sequence[int], since: datetime | None) -> list[tuple[int, int, int, str]]:
    """(band, seq, component, text) of the stored members of `bands`' buckets, in grouping order."""
    window, params = _in_window(since)
    with _registered(store, "koubei_values", _values(bands)):
        return _with_texts(
            store,
            "SELECT b.band, t.seq, t.component, t.source, t.native_id, t.published_at FROM duplicate_bands b"
            f" JOIN duplicate_texts t USING (source, native_id) WHERE b.band IN (SELECT value FROM koubei_values)"
            f"{window.replace('m.published_at', 't.published_at')}",
            "k.band, k.seq, k.component, m.text",
            "ORDER BY k.band, k.seq",
            params,
        )


def next_seq(store: Store) -> int:
    return int(store.query("SELECT coalesce(max(seq), -1) + 1 FROM duplicate_texts")[0][0])


def add(store: Store, texts: Sequence[dict[str, Any]], bands: Sequence[dict[str, Any]], merged: dict[int, int]) -> None:
    """Store new index rows and move the members of `merged` groups (old component -> new)."""
    con = store.con
    with _registered(store, "koubei_texts", pa.Table.from_pylist(list(texts), schema=TEXT_SCHEMA)):
        con.execute("INSERT INTO duplicate_texts SELECT * FROM koubei_texts")
    with _registered(store, "koubei_bands", pa.Table.from_pylist(list(bands), schema=BAND_SCHEMA)):
        con.execute("INSERT INTO duplicate_bands SELECT * FROM koubei_bands")
    moves = pa.table({"old": pa.array(list(merged), pa.int64()), "new": pa.array(list(merged.values()), pa.int64())})
    with _registered(store, "koubei_moves", moves):
        con.execute(
            "UPDATE duplicate_texts SET component = koubei_moves.new FROM koubei_moves"
            " WHERE duplicate_texts.component = koubei_moves.old"
        )


def members(store: Store, components: Sequence[int], since: datetime | None) -> list[tuple[int, Mention, str | None]]:
    """(component, mention, label) of every member of `components`. The labels are looked up by
    key afterwards (through the native_id index for up to BY_INDEX members): joined in the read,
    they came from a semi join that read the sentiment table whole (1.4 s at 10M mentions)."""
    window, params = _in_window(since)
    with _registered(store, "koubei_values", _values(components)):
        rows = _with_texts(
            store,
            "SELECT t.component, t.source, t.native_id, t.published_at FROM duplicate_texts t"
            f" WHERE t.component IN (SELECT value FROM koubei_values){window.replace('m.published_at', 't.published_at')}",
            "k.component, m.source, m.native_id, m.author_hash, m.text, m.published_at",
            "",
            params,
        )
    keys = [(str(row[1]), str(row[2])) for row in rows]
    labels = {
        (s, n): label for s, n, label in bykey.fetch(store, "source, native_id, label", "sentiment", keys, BY_INDEX)
    }
    return [(row[0], (row[1], row[2], row[3], row[4], row[5]), labels.get((row[1], row[2]))) for row in rows]


def write_groups(store: Store, groups: Sequence[dict[str, Any]], scope: Sequence[tuple[str, str]]) -> None:
    """Set duplicate_group/count/excluded for the members of `groups` and clear them for the
    other mentions of `scope` (every member of the groups a pass changed)."""
    rows = pa.Table.from_pylist(
        [
            {
                "source": g["source"],
                "native_id": g["native_id"],
                "duplicate_group": g["group"],
                "duplicate_count": g["accounts"],
                "excluded": g["excluded"],
            }
            for g in groups
        ],
        schema=GROUP_SCHEMA,
    )
    # Only the mentions whose excluded flips move in the rollups (storage/rollups.py).
    flipping = (
        "SELECT k.source, k.native_id FROM (SELECT source, native_id FROM koubei_scope UNION"
        " SELECT source, native_id FROM koubei_dups) k LEFT JOIN koubei_dups d USING (source, native_id)"
        " LEFT JOIN mention_flags f USING (source, native_id)"
        " WHERE coalesce(f.excluded, FALSE) <> (coalesce(d.excluded, FALSE) OR coalesce(f.default_review, FALSE))"
    )
    with _registered(store, "koubei_dups", rows), _registered(store, "koubei_scope", _keys(scope)):
        with changing(store, flipping, span=_published_span(store)):
            _write_flags(store)


def _published_span(store: Store) -> tuple[datetime, datetime] | None:
    """When the koubei_scope and koubei_dups mentions were published, from the index (which holds
    every member of a group): the range that bounds the rollups' reads of those mentions."""
    first, last = store.query(
        "SELECT min(published_at), max(published_at) FROM duplicate_texts WHERE (source, native_id) IN"
        " (SELECT source, native_id FROM koubei_scope UNION SELECT source, native_id FROM koubei_dups)"
    )[0]
    return None if first is None else (first, last)


def _write_flags(store: Store) -> None:
    """write_groups' writes: the koubei_scope mentions' groups cleared, the koubei_dups ones set."""
    store.con.execute(
        "UPDATE mention_flags SET duplicate_group = NULL, duplicate_count = NULL, excluded = default_review"
        " WHERE duplicate_group IS NOT NULL AND (source, native_id) IN (SELECT * FROM koubei_scope)"
    )
    store.upsert(
        "mention_flags",
        ["source", "native_id"],
        "SELECT source, native_id, duplicate_group, duplicate_count, excluded, now()::TIMESTAMP AS flagged_at"
        " FROM koubei_dups",
        "duplicate_group = excluded.duplicate_group, duplicate_count = excluded.duplicate_count,"
        " excluded = excluded.excluded OR mention_flags.default_review, flagged_at = excluded.flagged_at",
    )


def done(store: Store, keys: Sequence[tuple[str, str]]) -> None:
    """`keys` leave the pending list (with the rows that group them, or once a pass read them)."""
    with _registered(store, "koubei_keys", _keys(keys)):
        store.con.execute("DELETE FROM duplicate_pending WHERE (source, native_id) IN (SELECT * FROM koubei_keys)")


def covered(store: Store, covers: int) -> None:
    """Marking covered scoring up to the watermark `covers` (storage.sentiment.marking_owed)."""
    store.con.execute("UPDATE duplicate_watermark SET marked = greatest(marked, ?)", [covers])


def excluded_copies(store: Store, since: datetime | None) -> int:
    """Copies of duplicate groups excluded among the mentions of the window."""
    window = "" if since is None else " AND m.published_at >= ?"
    return int(
        store.query(
            "SELECT count(*) FROM mention_flags f JOIN mentions m USING (source, native_id)"
            f" WHERE f.duplicate_group IS NOT NULL AND f.excluded{window}",
            [] if since is None else [naive_utc(since)],
        )[0][0]
    )


def queue_window(store: Store, since: datetime | None) -> None:
    """Empty the index and queue every mention of the window: the next pass rebuilds it."""
    window = "" if since is None else " WHERE published_at >= ?"
    params = [] if since is None else [naive_utc(since)]
    with store.transaction() as con:
        con.execute("DELETE FROM duplicate_bands")
        con.execute("DELETE FROM duplicate_texts")
        cleared = (
            "SELECT f.source, f.native_id FROM mention_flags f JOIN mentions m USING (source, native_id)"
            f" WHERE f.duplicate_group IS NOT NULL{window.replace('WHERE', 'AND')}"
        )
        with changing(store, cleared, params):
            con.execute(
                "UPDATE mention_flags SET duplicate_group = NULL, duplicate_count = NULL, excluded = default_review"
                f" WHERE (source, native_id) IN ({cleared})",
                params,
            )
        con.execute(
            f"INSERT INTO duplicate_pending SELECT source, native_id FROM mentions{window}",
            params,
        )
