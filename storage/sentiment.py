"""All SQL of the sentiment package: scores, aspects, triage, trust flags, labels.

Writes go through one Arrow table per batch and kind (never one INSERT per
row), inside one transaction per batch, so a crash leaves whole batches.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from storage import audit, users
from storage.db import FILE, Store, WriteConflict
from storage.queue import PendingMention, dequeue, done_table
from storage.rollups import FIRST_SCORED_SCHEMA, add_scored, changing
from storage.users import Actor

SCORE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("score", pa.float64()),
        ("label", pa.string()),
        ("model", pa.string()),
        ("model_version", pa.string()),
        ("text_hash", pa.string()),
        ("scored_at", pa.timestamp("us")),
    ]
)
WRITE_ATTEMPTS = 5  # a lake batch's write against other workers' commits (write_scores)
ASPECT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("aspect", pa.string()),
        ("polarity", pa.string()),
    ]
)
TRIAGE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("urgency", pa.int32()),
        ("motive", pa.string()),
        ("reason", pa.string()),
        ("reply", pa.string()),
        ("flags", pa.string()),
        ("reading", pa.string()),
    ]
)
FLAG_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("rating_conflict", pa.string()),
        ("default_review", pa.bool_()),
        ("duplicate_group", pa.string()),
        ("duplicate_count", pa.int32()),
        ("excluded", pa.bool_()),
        ("flagged_at", pa.timestamp("us")),
    ]
)
# The rows write_scores takes, without the time it stamps them with.
SCORE_ROW_SCHEMA = SCORE_SCHEMA.remove(SCORE_SCHEMA.get_field_index("scored_at"))
FLAG_ROW_SCHEMA = FLAG_SCHEMA.remove(FLAG_SCHEMA.get_field_index("flagged_at"))
Rows: TypeAlias = Sequence[dict[str, Any]] | pa.Table
ASPECT_KEY = "source, native_id, aspect"
KEY = ("source", "native_id")
LABELS = ("pos", "neu", "neg")
TIERS = (1, 2, 3, 4, 5)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _table(rows: Rows, schema: pa.Schema) -> pa.Table:
    """`rows` as a table of `schema`: sentiment.pipeline.score_rows gives tables, built a column at
    a time (a dict a row, turned into a table, cost the writer about 100 us a mention), other
    callers lists of dicts."""
    if isinstance(rows, pa.Table):
        return rows.select(schema.names).cast(schema)
    return pa.Table.from_pylist(list(rows), schema=schema)


def _stamped(rows: pa.Table, column: str, stamp: datetime) -> pa.Table:
    return rows.append_column(
        pa.field(column, pa.timestamp("us")), pa.array([stamp] * rows.num_rows, pa.timestamp("us"))
    )


def _pairs(rows: pa.Table) -> list[tuple[str, str]]:
    return list(zip(rows["source"].to_pylist(), rows["native_id"].to_pylist(), strict=True))


Fresh = set[tuple[str, str]]  # (source, native_id) of mentions scored for the first time: no rows to replace


def _write_rows(
    store: Store, table: str, rows: pa.Table, fresh: Fresh, key: str = "source, native_id", updates: str | None = None
) -> None:
    """Write `rows` into `table`, replacing the rows with the same key (`updates`, default: every
    column); inside a transaction. The rows of `fresh` mentions are appended, their keys checked
    by the primary key's index: an upsert, which DuckDB 1.5 runs as a MERGE that hash-joins the
    whole table, took 0.3-2 s per 2,000 rows at 10M mentions against 0.02-0.1 s appended."""
    if not rows.num_rows:
        return
    keys = [k.strip() for k in key.split(",")]
    first = pa.array([pair in fresh for pair in _pairs(rows)], pa.bool_())
    for part, append in ((rows.filter(first), True), (rows.filter(pc.invert(first)), False)):
        if not part.num_rows:
            continue
        store.con.register("koubei_rows", part)
        try:
            if append:
                store.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM koubei_rows")
            else:
                update = updates or ", ".join(f"{c} = excluded.{c}" for c in part.schema.names if c not in keys)
                store.upsert(table, keys, "SELECT * FROM koubei_rows", update)
        finally:
            store.con.unregister("koubei_rows")


def _delete_keys(store: Store, tables: Sequence[str], keys: pa.Table) -> None:
    """Delete the rows of `keys` (source, native_id) from each of `tables`: a scan of each, so
    only for mentions that may hold old rows there; inside a transaction."""
    if not keys.num_rows:
        return
    store.con.register("koubei_keys", keys)
    try:
        for table in tables:
            store.con.execute(
                f"DELETE FROM {table} WHERE (source, native_id) IN (SELECT source, native_id FROM koubei_keys)"
            )
    finally:
        store.con.unregister("koubei_keys")


def write_scores(
    store: Store,
    scores: Rows,
    aspects: Rows,
    triage: Rows,
    flags: Rows,
    scored: Sequence[PendingMention] | None = None,
) -> None:
    """One scoring batch: scores, and the aspects, triage and rating flags that
    replace whatever those mentions had before; the batch leaves the score queue.
    Each kind of row as a list of dicts or an Arrow table (SCORE_ROW_SCHEMA, ASPECT_SCHEMA,
    TRIAGE_SCHEMA, FLAG_ROW_SCHEMA).
    `scored`: the queued mentions the batch was read as (storage.queue), which say
    which mentions were scored before and so may have old aspects or triage to delete;
    without it every mention is taken to. All or nothing.

    On a lake, DuckLake rolls back the later of two overlapping transactions that delete from
    one file (rare since lake writes take turns, storage.db._WriteTurn): the batch is written
    again (its analysis still holds) rather than analysed again."""
    if not len(scores):
        return
    tables = (
        _table(aspects, ASPECT_SCHEMA),
        _table(triage, TRIAGE_SCHEMA),
        _table(flags, FLAG_ROW_SCHEMA),
    )
    for attempt in range(WRITE_ATTEMPTS):
        try:
            _write_scores_once(store, _table(scores, SCORE_ROW_SCHEMA), tables, scored)
            return
        except WriteConflict:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # apart from the worker it met


Tables = tuple[pa.Table, pa.Table, pa.Table]  # a batch's aspects, triage and flags


def _write_scores_once(store: Store, scores: pa.Table, rows: Tables, scored: Sequence[PendingMention] | None) -> None:
    stamp = _now()
    score_rows = _stamped(scores, "scored_at", stamp)
    keys = done = score_rows.select(["source", "native_id"])
    first = pa.Table.from_pylist([], schema=keys.schema)
    if scored is not None:
        rescored = [{"source": m.source, "native_id": m.native_id} for m in scored if m.rescore]
        keys = pa.Table.from_pylist(rescored, schema=keys.schema)
        done = done_table([(m.source, m.native_id, m.content_hash) for m in scored])
        first = pa.Table.from_pylist(
            [{"source": m.source, "native_id": m.native_id} for m in scored if not m.rescore], schema=keys.schema
        )
    store.con.register("koubei_scored", score_rows.select(["source", "native_id"]))
    store.con.register("koubei_first", first)
    try:
        try:
            _write_transaction(store, score_rows, keys, rows, stamp, done, scored, store.backend == FILE)
        except duckdb.Error as exc:
            # A "fresh" mention held rows after all (an older database's leftovers): the
            # transaction rolled back whole; written again, every row merged by key. (A cleanup
            # in the aborted transaction may raise first, with the key's error as its context.)
            if not any(isinstance(e, duckdb.ConstraintException) for e in (exc, exc.__context__)):
                raise
            _write_transaction(store, score_rows, keys, rows, stamp, done, scored, False)
    finally:
        for name in ("koubei_scored", "koubei_first", "koubei_fresh"):
            store.con.unregister(name)


def _write_transaction(
    store: Store,
    score_rows: pa.Table,
    keys: pa.Table,
    rows: Tables,
    stamp: datetime,
    done: pa.Table,
    scored: Sequence[PendingMention] | None,
    append: bool,
) -> None:
    """write_scores' transaction; with `append`, the rows of mentions still queued for their first
    score are appended (nothing is stored to replace), not merged by key."""
    with store.transaction():
        # A first score's rollup change is known from the rows in hand (rollups.add_scored);
        # the rest (rescores, and first scores another writer stored meanwhile: no longer
        # queued) take the rollups' general path, which reads their stored state.
        fresh = store.con.execute(
            "SELECT source, native_id FROM koubei_first SEMI JOIN score_queue USING (source, native_id)"
        ).to_arrow_table()
        store.con.register("koubei_fresh", fresh)
        others = "SELECT source, native_id FROM koubei_scored ANTI JOIN koubei_fresh USING (source, native_id)"
        appended = (
            set(zip(fresh["source"].to_pylist(), fresh["native_id"].to_pylist(), strict=True)) if append else set()
        )
        with changing(store, others):
            _write_batch(store, score_rows, keys, rows, stamp, done, appended)
        published = {(m.source, m.native_id): m.published_at for m in scored or ()}
        add_scored(store, *_first_scored(fresh, score_rows, rows, published))


def _first_scored(
    fresh: pa.Table, score_rows: pa.Table, rows: Tables, published: dict[tuple[str, str], datetime | None]
) -> tuple[pa.Table, pa.Table]:
    """rollups.add_scored's rows for the `fresh` mentions of a batch: label, score, tier,
    whether a rating flag excludes them (a first score has no duplicate group to keep) and
    when it was published as queued; `rows` the batch's aspects, triage and flags."""
    aspects, triage, flags = rows
    keys = set(_pairs(fresh))
    tiers = dict(zip(_pairs(triage), triage["urgency"].to_pylist(), strict=True))
    excluded = dict(zip(_pairs(flags), flags["excluded"].to_pylist(), strict=True))
    scored_keys = _pairs(score_rows)
    chosen = [k for k in scored_keys if k in keys]
    first = score_rows.select(["source", "native_id", "label", "score"]).filter(
        pa.array([k in keys for k in scored_keys], pa.bool_())
    )
    for name, values in (
        ("tier", [tiers.get(k, 0) for k in chosen]),
        ("excluded", [bool(excluded.get(k, False)) for k in chosen]),
        ("published_at", [published.get(k) for k in chosen]),
    ):
        first = first.append_column(
            FIRST_SCORED_SCHEMA.field(name), pa.array(values, FIRST_SCORED_SCHEMA.field(name).type)
        )
    aspect_rows = aspects.filter(pa.array([k in keys for k in _pairs(aspects)], pa.bool_()))
    return first, aspect_rows


def _write_batch(
    store: Store,
    score_rows: pa.Table,
    keys: pa.Table,
    rows: Tables,
    stamp: datetime,
    done: pa.Table,
    fresh: Fresh,
) -> None:
    """write_scores' writes, inside its transaction: `keys` may hold old aspects or triage;
    `fresh` mentions hold no rows yet."""
    aspects, triage, flags = rows
    _write_rows(store, "sentiment", score_rows, fresh)
    _delete_keys(store, ("mention_aspects", "triage"), keys)
    _write_rows(store, "mention_aspects", aspects, fresh, ASPECT_KEY)
    _write_rows(store, "triage", triage, fresh)
    # Rating flags are per mention; duplicate groups are kept (they come from a separate pass).
    flag_rows = _stamped(flags, "flagged_at", stamp)
    _write_rows(
        store,
        "mention_flags",
        flag_rows,
        fresh,
        updates="rating_conflict = excluded.rating_conflict, default_review = excluded.default_review,"
        " excluded = excluded.default_review OR (mention_flags.duplicate_group IS NOT NULL"
        "   AND mention_flags.excluded AND NOT mention_flags.default_review),"
        " flagged_at = excluded.flagged_at",
    )
    dequeue(store, done)
    # Grouped by the next duplicate pass (storage/duplicates.py).
    store.con.execute("INSERT INTO duplicate_pending SELECT * FROM koubei_scored")
    # With the scores it covers: whatever happens next, the next run knows marking is owed.
    # An append, not an update of one shared row: concurrent workers' batches never conflict.
    store.con.execute("INSERT INTO scored_batches VALUES (?)", [stamp])


def marking_owed(store: Store) -> int | None:
    """The scoring watermark a duplicate-marking pass should cover, or None when the last
    pass covered every scoring batch."""
    scored, marked = store.query(
        "SELECT scored + (SELECT count(*) FROM scored_batches), marked FROM duplicate_watermark"
    )[0]
    return int(scored) if scored > marked else None


def excluded_keys(store: Store) -> set[tuple[str, str]]:
    return {(s, n) for s, n in store.query("SELECT source, native_id FROM mention_flags WHERE excluded")}


def save_labels(store: Store, labels: Sequence[tuple[str, str, str]], actor: Actor | None = None) -> int:
    """Store people's corrections: (source, native_id, label). The mention's text is
    copied from `mentions`. Returns how many were stored; unknown mentions raise.
    With an actor, the correction is checked against its role, names it and is audited."""
    for source, native_id, label in labels:
        if label not in LABELS:
            raise ValueError(f"{source}/{native_id}: label must be one of {LABELS}, got {label!r}")
    rows = pa.Table.from_pylist(
        [{"source": s, "native_id": n, "label": lab} for s, n, lab in labels],
        schema=pa.schema([("source", pa.string()), ("native_id", pa.string()), ("label", pa.string())]),
    )
    return _save_corrections(
        store,
        rows,
        "sentiment_labels",
        "SELECT l.source, l.native_id, l.label, m.text, ?::TIMESTAMP AS labelled_at, ?::VARCHAR AS labelled_by"
        " FROM koubei_labels l JOIN mentions m USING (source, native_id)",
        "label = excluded.label, text = excluded.text, labelled_at = excluded.labelled_at,"
        " labelled_by = excluded.labelled_by",
        actor,
        "label",
    )


def save_tier_labels(store: Store, tiers: Sequence[tuple[str, str, int]], actor: Actor | None = None) -> int:
    """Store people's tier corrections: (source, native_id, tier 1-5), with the mention's
    text and reach as they are now. Returns how many were stored; unknown mentions raise.
    With an actor, as save_labels."""
    for source, native_id, tier in tiers:
        if tier not in TIERS:
            raise ValueError(f"{source}/{native_id}: tier must be one of 1-5, got {tier!r}")
    rows = pa.Table.from_pylist(
        [{"source": s, "native_id": n, "urgency": tier} for s, n, tier in tiers],
        schema=pa.schema([("source", pa.string()), ("native_id", pa.string()), ("urgency", pa.int32())]),
    )
    return _save_corrections(
        store,
        rows,
        "triage_labels",
        "SELECT l.source, l.native_id, l.urgency, m.text,"
        " coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS reach,"
        " ?::TIMESTAMP AS labelled_at, ?::VARCHAR AS labelled_by"
        " FROM koubei_labels l JOIN mentions m USING (source, native_id)",
        "urgency = excluded.urgency, text = excluded.text, reach = excluded.reach,"
        " labelled_at = excluded.labelled_at, labelled_by = excluded.labelled_by",
        actor,
        "tier",
    )


def _save_corrections(
    store: Store, rows: pa.Table, table: str, corrected: str, updates: str, actor: Actor | None, kind: str
) -> int:
    """Merge `corrected` (a query that reads koubei_labels and takes the time and who as its
    parameters) into `table` for `rows` after checking that every mention exists. One
    transaction, with its audit entry."""
    if not rows.num_rows:
        return 0
    if actor is not None:
        users.authorize(store, actor, "correct")
    con = store.con
    con.register("koubei_labels", rows)
    try:
        missing = con.execute(
            "SELECT l.source, l.native_id FROM koubei_labels l LEFT JOIN mentions m USING (source, native_id)"
            " WHERE m.source IS NULL LIMIT 1"
        ).fetchall()
        if missing:
            raise ValueError(f"no mention {missing[0][0]}/{missing[0][1]} to label")
        with store.transaction():
            store.upsert(table, KEY, corrected, updates, [_now(), actor.name if actor else None])
            if actor is not None:
                keys = [
                    f"{s}/{n}" for s, n in zip(rows["source"].to_pylist(), rows["native_id"].to_pylist(), strict=True)
                ]
                audit.record(store, "correct", kind, {"mentions": keys}, actor.name, actor.origin)
    finally:
        con.unregister("koubei_labels")
    return int(rows.num_rows)


def _has_table(store: Store, name: str) -> bool:
    return bool(store.query("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])[0][0])


def labelled_texts(store: Store) -> list[tuple[str, str]]:
    """(text, label) of every correction, oldest first ([] on a database not yet migrated)."""
    if not _has_table(store, "sentiment_labels"):
        return []
    return store.query("SELECT text, label FROM sentiment_labels ORDER BY labelled_at, source, native_id")


def tier_labels(store: Store) -> list[tuple[str, int, int]]:
    """(text, reach, tier) of every tier correction, oldest first ([] on a database not yet migrated)."""
    if not _has_table(store, "triage_labels"):
        return []
    return store.query("SELECT text, reach, urgency FROM triage_labels ORDER BY labelled_at, source, native_id")
