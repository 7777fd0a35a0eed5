"""Rollups kept current at write time (migration 070): the counts the overview and detection read.

`rollup_mentions` holds, per 5-minute bucket of published_at (UTC) and brand, product,
source, label, tier and excluded, how many mentions there are and the exact sum of their
scores; `rollup_aspects` the same per aspect and the aspect's own polarity (migration 162);
`rollup_days` (migration 160) how many per UTC day, brand, product and source: what the
dashboard's filters offer. Every write that changes what they count changes them in its own
transaction:

- a new mention adds itself from the batch in hand (`add_new`): it has no score yet;
- its first score moves it from unscored to its label, tier and aspects from the rows in hand
  (`add_scored`): only its bucket, brand and product are read, from the mentions table;
- any other change (a content update, a score, a duplicate mark, a brand tag, an erasure)
  runs inside `changing(store, keys)`, which takes the keys' contributions out before the
  change and puts them back after it, so whatever the change did is counted once.

`rebuild` recomputes both tables from the rows; a test proves it equals the increments.
Readers take whole buckets from the rollups and only the rows of the partial buckets at
their window's edges from the tables (`split`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from storage import bykey
from storage.db import FILE, Store

BUCKET_SECONDS = 300
_BUCKET = f"time_bucket(INTERVAL {BUCKET_SECONDS} SECOND, m.published_at)"
_KEYS = "koubei_rollup_keys"
_MENTION_KEY = "bucket, brand, product, source, label, tier, excluded"
_ASPECT_KEY = "bucket, brand, product, source, aspect, polarity, label, excluded"
_DIMS = "bucket, brand, product, source"
_DAY_KEY = "day, brand, product, source"
_STATE = "koubei_rollup_state"
_NEW_SCHEMA = pa.schema(
    [("source", pa.string()), ("published_at", pa.timestamp("us")), ("brand", pa.string()), ("product", pa.string())]
)
NEW_COLUMNS = "source, published_at, brand, product"  # what an insert RETURNs for add_new
Span = tuple[datetime, datetime]  # a published_at range, both ends included


def keyed(table: str, keys: str) -> str:
    """The rows of `table` whose (source, native_id) the (small) table `keys` holds, as a subquery.
    Joined this way the small side is the one hashed: a plain LEFT JOIN from a few keys to a
    large table builds its hash table over the large one (0.8 s for triage at 1M mentions)."""
    return f"(SELECT * FROM {table} WHERE (source, native_id) IN (SELECT source, native_id FROM {keys}))"


def _state(mentions: str, keys: str | None = None, sides: dict[str, str] | None = None) -> str:
    """One row per mention m of `mentions` with everything the rollups count it by; with `keys`
    (a small table of the mentions' keys) the joined tables are read for those keys only, and
    `sides` names tables that already hold their rows for those keys (table -> its stand-in)."""

    def side(table: str) -> str:
        if sides and table in sides:
            return sides[table]
        return table if keys is None else keyed(table, keys)

    return (
        f"SELECT m.source, m.native_id, {_BUCKET} AS bucket, coalesce(m.brand, '') AS brand,"
        " coalesce(m.product, '') AS product, coalesce(s.label, '') AS label, s.score,"
        " coalesce(t.urgency, 0) AS tier, coalesce(f.excluded, FALSE) AS excluded"
        f" FROM {mentions}"
        f" LEFT JOIN {side('sentiment')} s ON s.source = m.source AND s.native_id = m.native_id"
        f" LEFT JOIN {side('triage')} t ON t.source = m.source AND t.native_id = m.native_id"
        f" LEFT JOIN {side('mention_flags')} f ON f.source = m.source AND f.native_id = m.native_id"
    )


def _mention_rows(state: str) -> str:
    """Each combination's count and score sum over the `state` rows, times the sign ($sign)."""
    return (
        f"SELECT {_DIMS}, label, tier, excluded, count(*) * $sign AS mentions,"
        f" coalesce(sum(score::DECIMAL(38, 12)), 0) * $sign AS score_sum FROM {state} GROUP BY ALL"
    )


def _aspect_rows(state: str, aspects: str = "mention_aspects") -> str:
    return (
        f"SELECT bucket, brand, product, x.source, a.aspect, a.polarity, label, excluded, count(*) * $sign AS mentions"
        f" FROM {state} x"
        f" JOIN {aspects} a ON a.source = x.source AND a.native_id = x.native_id GROUP BY ALL"
    )


def _day_rows(state: str) -> str:
    """Each day's count per brand, product and source over `state` rows (with a 5-minute `bucket`)."""
    return f"SELECT bucket::DATE AS day, brand, product, source, count(*) * $sign AS mentions FROM {state} GROUP BY ALL"


def _merge(store: Store, table: str, key: str, rows: str, sign: int) -> None:
    """Add the signed counts of `rows` to `table` (an index lookup per combination)."""
    sums = "mentions = {t}.mentions + excluded.mentions"
    if table == "rollup_mentions":
        sums += ", score_sum = {t}.score_sum + excluded.score_sum"
    if store.backend != FILE:
        # On the lake every worker's write would merge into the same few rows per bucket, and
        # concurrent merges of one row conflict: there the rollups are a log of signed counts
        # (readers sum them anyway), and appends do not conflict.
        store.con.execute(f"INSERT INTO {table} BY NAME {rows}", {"sign": sign})
        return
    store.upsert(table, key.split(", "), rows, sums.format(t=table), {"sign": sign})


# Up to this many keys a change's state reads sentiment, triage and mention_aspects through their
# native_id indexes (migration 190; 0.11-0.15 ms a key a table at 1M and 10M mentions), past it by a
# semi join that reads each table's keys whole (0.5-1 s a table at 10M mentions, load 7-9): the
# index wins up to about 4,000 keys. A 10k pass at 10M flipped about 500 copies' exclusion.
BY_INDEX = 2_000
# table -> (its stand-in temp table, the columns the state reads), for the index lookups.
_INDEXED = {
    "sentiment": ("koubei_rollup_sentiment", "source, native_id, label, score"),
    "triage": ("koubei_rollup_triage", "source, native_id, urgency"),
    "mention_aspects": ("koubei_rollup_aspects", "source, native_id, aspect, polarity"),
}


def _looked_up(store: Store, keys: int) -> dict[str, str]:
    """The rows of the _KEYS mentions in the indexed tables, looked up by key into temp tables
    when there are at most BY_INDEX keys (table -> temp table); else nothing (the state reads
    them by semi join)."""
    if keys > BY_INDEX or store.backend != FILE:
        return {}
    pairs = [(str(s), str(n)) for s, n in store.query(f"SELECT source, native_id FROM {_KEYS}")]
    for table, (temp, columns) in _INDEXED.items():
        bykey.into_temp(store, temp, columns, table, pairs)
    return {table: temp for table, (temp, _) in _INDEXED.items()}


def _apply_keys(store: Store, sign: int, keys: int, span: Span | None) -> None:
    """Add (or with sign -1 take out) the contributions of the `keys` keys' mentions as they are
    now: their state read once (one look at each table, through the native_id index for a few
    keys), then counted for both rollups. With `span`, the mentions are read within that
    published_at range (zone maps skip the rest of the table), and read again without it when
    one was not there (moved or gone)."""
    sides = _looked_up(store, keys)
    for bound in ([span] if span is not None else []) + [None]:
        within, params = ("", []) if bound is None else (" WHERE m.published_at BETWEEN ? AND ?", list(bound))
        store.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_STATE} AS {_state(keyed('mentions', _KEYS) + ' m', _KEYS, sides)}{within}",
            params,
        )
        if bound is None or store.query(f"SELECT count(*) FROM {_STATE}")[0][0] == keys:
            break
    aspects = sides.get("mention_aspects") or keyed("mention_aspects", _STATE)
    _merge(store, "rollup_mentions", _MENTION_KEY, _mention_rows(_STATE), sign)
    _merge(store, "rollup_aspects", _ASPECT_KEY, _aspect_rows(_STATE, aspects), sign)
    _merge(store, "rollup_days", _DAY_KEY, _day_rows(_STATE), sign)
    for temp in sides.values():
        store.con.execute(f"DROP TABLE {temp}")


def _drop_empty(store: Store) -> None:
    """Combinations a change emptied: a rebuild would not have them."""
    if store.backend != FILE:
        return  # a log of signed counts: its rows sum to zero rather than being zero
    for table in ("rollup_mentions", "rollup_aspects", "rollup_days"):
        store.con.execute(f"DELETE FROM {table} WHERE mentions = 0")


@contextmanager
def changing(store: Store, keys: str, params: Sequence[Any] = (), span: Span | None = None) -> Iterator[None]:
    """The rollups follow whatever the body changes about the mentions whose (source, native_id)
    the query `keys` selects (read before the body runs); inside the caller's transaction.
    `span`: the published_at range those mentions are in, when the caller knows it (it bounds
    the reads of the mentions table)."""
    store.con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_KEYS} AS SELECT DISTINCT source, native_id FROM ({keys})", params
    )
    count = int(store.query(f"SELECT count(*) FROM {_KEYS}")[0][0])
    if not count:
        # Nothing to follow: the state queries would still read every joined table.
        store.con.execute(f"DROP TABLE {_KEYS}")
        yield
        return
    try:
        _apply_keys(store, -1, count, span)
        yield
        _apply_keys(store, 1, count, span)
        _drop_empty(store)
    finally:
        store.con.execute(f"DROP TABLE IF EXISTS {_KEYS}")
        store.con.execute(f"DROP TABLE IF EXISTS {_STATE}")


def add_new(store: Store, rows: Sequence[tuple[Any, ...]]) -> None:
    """Count mentions just inserted, as (NEW_COLUMNS) rows: none has a score, triage or flag
    yet (an erasure deletes those with the mention); inside the caller's transaction."""
    if not rows:
        return
    table = pa.Table.from_pylist([dict(zip(_NEW_SCHEMA.names, row)) for row in rows], schema=_NEW_SCHEMA)
    store.con.register("koubei_new", table)
    try:
        _merge(
            store,
            "rollup_mentions",
            _MENTION_KEY,
            f"SELECT {_BUCKET} AS bucket, coalesce(m.brand, '') AS brand, coalesce(m.product, '') AS product,"
            " m.source, '' AS label, 0 AS tier, FALSE AS excluded, count(*) * $sign AS mentions, 0 AS score_sum"
            " FROM koubei_new m GROUP BY ALL",
            1,
        )
        _merge(
            store,
            "rollup_days",
            _DAY_KEY,
            "SELECT m.published_at::DATE AS day, coalesce(m.brand, '') AS brand, coalesce(m.product, '') AS product,"
            " m.source, count(*) * $sign AS mentions FROM koubei_new m GROUP BY ALL",
            1,
        )
    finally:
        store.con.unregister("koubei_new")


_SCORED = "koubei_first_scored"
FIRST_SCORED_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("label", pa.string()),
        ("score", pa.float64()),
        ("tier", pa.int32()),
        ("excluded", pa.bool_()),
        ("published_at", pa.timestamp("us")),  # as queued (None: not known), bounds the read of the mention
    ]
)


def add_scored(store: Store, scored: pa.Table, aspects: pa.Table) -> None:
    """Move mentions scored for the first time (FIRST_SCORED_SCHEMA rows, and their (source,
    native_id, aspect, polarity) rows) from unscored to their label, tier and aspects. Before this
    write they had no score, triage, aspects or flags, so what they counted as is known
    without reading those tables; only their bucket, brand and product are read (as stored
    now), within the batch's published_at range. Inside the caller's transaction, after the
    rows are written."""
    if not scored.num_rows:
        return
    store.con.register("koubei_scored_now", scored)
    store.con.register("koubei_aspects_now", aspects)
    try:
        _scored_state(store, scored)
        unscored = (
            f"SELECT {_DIMS}, '' AS label, 0 AS tier, FALSE AS excluded, count(*) * $sign AS mentions,"
            f" 0 AS score_sum FROM {_STATE} GROUP BY ALL"
        )
        _merge(store, "rollup_mentions", _MENTION_KEY, unscored, -1)
        _merge(store, "rollup_mentions", _MENTION_KEY, _mention_rows(_STATE), 1)
        _merge(store, "rollup_aspects", _ASPECT_KEY, _aspect_rows(_STATE, "koubei_aspects_now"), 1)
        if store.backend == FILE:  # the unscored combinations the batch emptied, in its buckets only
            store.con.execute(
                f"DELETE FROM rollup_mentions WHERE mentions = 0 AND bucket BETWEEN"
                f" (SELECT min(bucket) FROM {_STATE}) AND (SELECT max(bucket) FROM {_STATE})"
            )
    finally:
        store.con.unregister("koubei_scored_now")
        store.con.unregister("koubei_aspects_now")
        store.con.execute(f"DROP TABLE IF EXISTS {_STATE}")


def _scored_state(store: Store, scored: pa.Table) -> None:
    """add_scored's state of the koubei_scored_now mentions, their stored rows read within the
    batch's published_at range: the mentions table's zone maps skip the rest (a read by key
    alone scans every stored key). Read again without the range when a mention was not in it."""
    times = [t for t in scored["published_at"].to_pylist() if t is not None]
    spans = [(min(times), max(times))] if len(times) == scored.num_rows else []
    for span in [*spans, None]:
        within, params = ("", []) if span is None else (" WHERE m.published_at BETWEEN ? AND ?", list(span))
        store.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_STATE} AS SELECT m.source, m.native_id, {_BUCKET} AS bucket,"
            " coalesce(m.brand, '') AS brand, coalesce(m.product, '') AS product, x.label, x.score, x.tier, x.excluded"
            f" FROM koubei_scored_now x JOIN {keyed('mentions', 'koubei_scored_now')} m"
            f" ON m.source = x.source AND m.native_id = x.native_id{within}",
            params,
        )
        if store.query(f"SELECT count(*) FROM {_STATE}")[0][0] == scored.num_rows:
            return


def rebuild(store: Store) -> tuple[int, int]:
    """Recompute both rollups from the stored rows; returns their row counts. One transaction."""
    with store.transaction():
        store.con.execute("DELETE FROM rollup_mentions")
        store.con.execute("DELETE FROM rollup_aspects")
        store.con.execute("DELETE FROM rollup_days")
        store.con.execute(f"CREATE OR REPLACE TEMP TABLE {_STATE} AS {_state('mentions m')}")
        store.con.execute(f"INSERT INTO rollup_mentions {_mention_rows(_STATE)}", {"sign": 1})
        store.con.execute(f"INSERT INTO rollup_aspects {_aspect_rows(_STATE)}", {"sign": 1})
        store.con.execute(f"INSERT INTO rollup_days {_day_rows(_STATE)}", {"sign": 1})
        store.con.execute(f"DROP TABLE {_STATE}")
    return rollup_sizes(store)


def rollup_sizes(store: Store) -> tuple[int, int]:
    return (
        int(store.query("SELECT count(*) FROM rollup_mentions")[0][0]),
        int(store.query("SELECT count(*) FROM rollup_aspects")[0][0]),
    )


def day_snapshot(store: Store) -> list[tuple[Any, ...]]:
    """rollup_days' rows in key order, as snapshot gives the other two."""
    return store.query(f"SELECT * FROM rollup_days ORDER BY {_DAY_KEY}")


def snapshot(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Both rollups' rows in key order: what a test compares after increments and after a rebuild."""
    return (
        store.query(f"SELECT * FROM rollup_mentions ORDER BY {_MENTION_KEY}"),
        store.query(f"SELECT * FROM rollup_aspects ORDER BY {_ASPECT_KEY}"),
    )


@dataclass(frozen=True)
class Split:
    """A window [start, end) as what the rollups answer (whole buckets: `span`, or None) and
    the rest, read from the rows (`edges`: at most two partial buckets' worth)."""

    span: tuple[datetime, datetime] | None
    edges: tuple[tuple[datetime, datetime], ...]

    def edge_sql(self, column: str) -> tuple[str, list[Any]]:
        """A condition on `column` (a published_at) selecting the edges' rows."""
        if not self.edges:
            return "FALSE", []
        clauses = " OR ".join(f"({column} >= ? AND {column} < ?)" for _ in self.edges)
        return f"({clauses})", [moment for edge in self.edges for moment in edge]


def split(start: datetime, end: datetime, usable: bool = True) -> Split:
    """`start`..`end` (naive UTC) cut at the rollup's bucket boundaries; all rows when not
    `usable` (a grouping that does not fall on those boundaries) or no whole bucket fits."""
    step = timedelta(seconds=BUCKET_SECONDS)
    epoch = datetime(1970, 1, 1)
    first = epoch + -(-(start - epoch) // step) * step
    last = epoch + (end - epoch) // step * step
    if not usable or first >= last:
        return Split(None, ((start, end),) if start < end else ())
    edges = tuple((a, b) for a, b in ((start, first), (last, end)) if a < b)
    return Split((first, last), edges)
