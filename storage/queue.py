"""What needs scoring, recorded as it happens (migration 050): the score queue.

Storing a mention that is new, or whose content changed, queues its key in the upsert's
own transaction; a scoring batch dequeues what it scored in the transaction that writes
the scores. Finding pending work therefore reads the queue, never every stored text, and
a crash anywhere loses nothing: a key leaves the queue only with its scores.

A change of model or version is the one event that needs a look at everything scored: the
first run with another model (or the first after the migration) queues once every mention
scored by another one.

The queue keeps each mention's published_at (migration 140) and is read in publishing order, a
slice at a time; a slice's mentions are read within its time range, which the mentions table's
zone maps answer by skipping every row group outside it. Without that bound the join by key read
the whole table for each slice (no index serves a join on two columns): a pass's 10k new
mentions read every stored text, and a backlog read them all once per slice.

The queue has no primary key (migration 150): a dequeue paid per key on its index, 0.1-0.3 ms a
key. Its writes are MERGEs by key, so a key is still queued once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from storage.db import Store

KEY = ("source", "native_id")
QUEUED = "source, native_id, content_hash, published_at"  # what an upsert RETURNs for queue_for_scoring
_DONE_SCHEMA = pa.schema([("source", pa.string()), ("native_id", pa.string()), ("content_hash", pa.string())])
_QUEUE_SCHEMA = _DONE_SCHEMA.append(pa.field("published_at", pa.timestamp("us")))
_NEXT_SCHEMA = _QUEUE_SCHEMA.append(pa.field("rescore", pa.bool_()))
# Publishing order, with a queue row that has no time (none should) first rather than never read.
_WHEN = "coalesce(published_at, TIMESTAMP '0001-01-01')"
After = tuple[datetime, str, str]  # where a read of the queue ended: (published_at, source, native_id)


@dataclass(frozen=True)
class PendingMention:
    source: str
    native_id: str
    text: str
    text_hash: str
    rating: float | None
    reach: int
    language: str | None
    brand: str | None
    content_hash: str = ""  # as queued: the batch dequeues the key only if it did not change since
    rescore: bool = True  # scored before: its old aspects and triage are replaced
    published_at: datetime | None = None  # as queued: bounds what a write reads back of the mention


def queued_table(rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """(QUEUED) rows as an Arrow table."""
    return pa.Table.from_pylist([dict(zip(_QUEUE_SCHEMA.names, row)) for row in rows], schema=_QUEUE_SCHEMA)


def done_table(rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """(source, native_id, content_hash) rows of scored mentions, as dequeue takes them."""
    return pa.Table.from_pylist([dict(zip(_DONE_SCHEMA.names, row)) for row in rows], schema=_DONE_SCHEMA)


def queue_for_scoring(store: Store, rows: Sequence[tuple[Any, ...]], rescore: bool) -> None:
    """Queue (QUEUED) rows; inside the caller's transaction."""
    if not rows:
        return
    store.con.register("koubei_queued", queued_table(rows))
    try:
        store.upsert(
            "score_queue",
            KEY,
            "SELECT source, native_id, content_hash, published_at, ? AS rescore FROM koubei_queued",
            "content_hash = excluded.content_hash, published_at = excluded.published_at,"
            " rescore = score_queue.rescore OR excluded.rescore",
            [rescore],
            unkeyed=True,
        )
    finally:
        store.con.unregister("koubei_queued")


def queue_for_model(store: Store, model: str, version: str) -> int:
    """Queue every mention scored by another model or version when the queue was kept for
    another one (or none yet); how many were queued (0 when the model is the same). Mentions
    never scored are in the queue already (from their upsert, or from migration 050)."""
    current = store.query("SELECT model, model_version FROM score_model")[0]
    if current == (model, version):
        return 0
    scored_by_another = (
        "SELECT m.source, m.native_id, m.content_hash, m.published_at, TRUE AS rescore"
        " FROM mentions m JOIN sentiment s USING (source, native_id)"
        " WHERE s.model <> ? OR s.model_version <> ?"
    )
    with store.transaction():
        queued = store.query(f"SELECT count(*) FROM ({scored_by_another})", [model, version])[0][0]
        store.upsert("score_queue", KEY, scored_by_another, "rescore = TRUE", [model, version], unkeyed=True)
        store.con.execute("UPDATE score_model SET model = ?, model_version = ?", [model, version])
    return int(queued)


Bucket = tuple[int, int]  # (k, n): the keys whose hash is k modulo n, one worker's share


def _in_bucket(bucket: Bucket | None) -> tuple[list[str], list[Any]]:
    if bucket is None:
        return [], []
    return ["hash(source || chr(0) || native_id) % ? = ?"], [bucket[1], bucket[0]]


def count_pending(store: Store, bucket: Bucket | None = None) -> int:
    conditions, params = _in_bucket(bucket)
    where = f" WHERE {conditions[0]}" if conditions else ""
    return int(store.query(f"SELECT count(*) FROM score_queue{where}", params)[0][0])


def pending_mentions(
    store: Store, limit: int, after: After | None = None, bucket: Bucket | None = None
) -> tuple[list[PendingMention], After | None]:
    """The next `limit` queued mentions (of `bucket` only, when given) in publishing order after
    `after` (keyset paging), and where the read ended (None: the queue holds nothing more).
    Reads the queue, then only those mentions, within the slice's time range; a queued key
    whose mention is gone (deleted before it was scored) is dropped."""
    conditions, params = _in_bucket(bucket)
    if after is not None:
        conditions.append(f"({_WHEN}, source, native_id) > (?, ?, ?)")
        params += list(after)
    where_after = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    queued = store.query(
        f"SELECT source, native_id, content_hash, published_at, rescore, {_WHEN} FROM score_queue{where_after}"
        f" ORDER BY {_WHEN}, source, native_id LIMIT {int(limit)}",
        params,
    )
    if not queued:
        return [], None
    keys = pa.Table.from_pylist([dict(zip(_NEXT_SCHEMA.names, row)) for row in queued], schema=_NEXT_SCHEMA)
    store.con.register("koubei_next", keys)
    try:
        times = [row[3] for row in queued]
        rows = _queued_mentions(store, None if None in times else (min(times), max(times)))
        if len(rows) < len(queued):  # a mention gone, or (it should not be) stored at another time
            rows = _queued_mentions(store, None)
            with store.transaction():  # on a lake, in turn with other writers (storage.db._WriteTurn)
                store.con.execute(
                    "DELETE FROM score_queue WHERE (source, native_id) IN (SELECT source, native_id FROM koubei_next"
                    " ANTI JOIN mentions USING (source, native_id))"
                )
    finally:
        store.con.unregister("koubei_next")
    last = queued[-1]
    return [PendingMention(*row) for row in rows], (last[5], last[0], last[1])


def _queued_mentions(store: Store, span: tuple[datetime, datetime] | None) -> list[tuple[Any, ...]]:
    """PendingMention rows of the koubei_next keys, read from mentions published within `span`
    (all of them when None)."""
    within, params = ("", []) if span is None else (" WHERE m.published_at BETWEEN ? AND ?", list(span))
    return store.query(
        "SELECT m.source, m.native_id, m.text, md5(m.text), m.rating,"
        " coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0), m.language, m.brand,"
        " q.content_hash, q.rescore, m.published_at"
        f" FROM koubei_next q JOIN mentions m USING (source, native_id){within}"
        " ORDER BY m.published_at, m.source, m.native_id",
        params,
    )


def dequeue(store: Store, done: pa.Table) -> None:
    """Remove the scored keys: (source, native_id, content_hash) rows leave only if not
    queued again since they were read, (source, native_id) rows whatever was queued;
    inside the caller's transaction."""
    columns = ", ".join(done.schema.names)
    store.con.register("koubei_done", done)
    try:
        store.con.execute(f"DELETE FROM score_queue WHERE ({columns}) IN (SELECT {columns} FROM koubei_done)")
    finally:
        store.con.unregister("koubei_done")
