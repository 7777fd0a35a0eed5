"""Read side for detection: bucketed counts per scope, and the facts behind an incident.

Buckets are whole multiples of `bucket_seconds` since the epoch (UTC), keyed
by the mention's published_at, so a backfill lands in the buckets its posts
were written in, not in the bucket it was collected in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from storage import bykey, rollups
from storage.db import Store
from storage.incidents import IncidentMention

RED_ALERT_TIER = 5
# Up to this many keys ScopeRows looks rows up through the native_id index, past it one semi join
# reads the table: 0.11-0.15 ms a key through the index at 1M and 10M mentions, against 0.08 s
# (1M) and 0.3-0.7 s (10M) for a semi join on sentiment, triage or mention_aspects (load 6).
LOOKUP_KEYS = 500
# scope_type -> SQL for the scope value (brand-level scopes are per brand too).
_SCOPE_VALUE = {
    "brand": "m.brand",
    "product": "m.product",
    "source": "m.source",
    "aspect": "a.aspect",
}


def _scope_sql(scope_type: str) -> tuple[str, str]:
    if scope_type not in _SCOPE_VALUE:
        raise ValueError(f"unknown scope type {scope_type!r}; known: {', '.join(_SCOPE_VALUE)}")
    join = (
        " JOIN mention_aspects a ON a.source = m.source AND a.native_id = m.native_id" if scope_type == "aspect" else ""
    )
    return _SCOPE_VALUE[scope_type], join


# scope_type -> the rollup table and its column for the scope value ('' stands for NULL there).
_ROLLUP_VALUE = {
    "brand": ("rollup_mentions", "r.brand"),
    "product": ("rollup_mentions", "r.product"),
    "source": ("rollup_mentions", "r.source"),
    "aspect": ("rollup_aspects", "r.aspect"),
}


EdgeReader = Callable[[Store, str, list[Any]], None]


def _rows_and_rollup(
    store: Store,
    since: datetime,
    until: datetime,
    bucket_seconds: int,
    raw: str,
    rollup: str,
    outer: str,
    scope_params: Sequence[Any] = (),
    read_edges: EdgeReader | None = None,
) -> Any:
    """`outer` over the UNION ALL ({parts}) of `raw` (the rows of the window's partial buckets,
    selected by {edges}) and `rollup` (the whole 5-minute buckets, between its two parameters);
    `scope_params` are those of conditions each part has after its time's. With `read_edges`,
    that reads the partial buckets' rows (given their condition on m.published_at) into temp
    tables first, `raw` reads those and {edges} is TRUE."""
    cut = rollups.split(since, until, bucket_seconds % rollups.BUCKET_SECONDS == 0)
    edges, params = cut.edge_sql("m.published_at")
    if read_edges is not None:
        read_edges(store, edges, params)
        edges, params = "TRUE", []
    params += list(scope_params)
    parts = [raw.format(edges=edges)]
    if cut.span is not None:
        parts.append(rollup)
        params += [*cut.span, *scope_params]
    return store.frame(outer.format(parts=" UNION ALL ".join(parts)), params)


_EDGE_MENTIONS = "koubei_edge_mentions"
_EDGE_LABELS = "koubei_edge_labels"
_EDGE_ASPECTS = "koubei_edge_aspects"


def _edge_reader(aspects: bool) -> EdgeReader:
    """Reads the edge buckets' mentions first, then their labels (and aspects) by key: a join of
    those few rows to sentiment and mention_aspects hashed or scanned the whole tables (an
    aspect scope's counts took 4.4 s at 10M mentions for the second after `now`, load 9)."""

    def read(store: Store, edges: str, params: list[Any]) -> None:
        store.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_EDGE_MENTIONS} AS SELECT m.source, m.native_id, m.brand, m.product,"
            f" m.published_at FROM mentions m WHERE {edges}",
            params,
        )
        bykey.rows_into_temp(store, _EDGE_LABELS, "source, native_id, label", "sentiment", _EDGE_MENTIONS, LOOKUP_KEYS)
        if aspects:
            bykey.rows_into_temp(
                store, _EDGE_ASPECTS, "source, native_id, aspect", "mention_aspects", _EDGE_MENTIONS, LOOKUP_KEYS
            )

    return read


def bucket_counts(
    store: Store,
    scope_type: str,
    bucket_seconds: int,
    since: datetime,
    until: datetime,
    scope: tuple[str, str] | None = None,
) -> Any:
    """DataFrame: brand, scope_value, bucket (int index), total, scored, negative, of every scope
    or of one (`scope`: brand, scope value). Whole 5-minute buckets come from the rollups, the
    partial ones at the window's edges from the rows (all of them when the bucket is not a
    multiple of 5 minutes)."""
    value, _ = _scope_sql(scope_type)
    join = (
        f" JOIN {_EDGE_ASPECTS} a ON a.source = m.source AND a.native_id = m.native_id"
        if scope_type == "aspect"
        else ""
    )
    table, column = _ROLLUP_VALUE[scope_type]
    b = int(bucket_seconds)
    raw_scope, rollup_scope = (
        ("", "")
        if scope is None
        else (
            f" AND coalesce(m.brand, '') = ? AND {value} = ?",
            f" AND r.brand = ? AND {column} = ?",
        )
    )
    try:
        return _rows_and_rollup(
            store,
            since,
            until,
            b,
            f"SELECT coalesce(m.brand, '') AS brand, {value} AS scope_value,"
            f" floor(epoch(m.published_at) / {b})::BIGINT AS bucket,"
            " count(*) AS total, count(s.label) AS scored,"
            " count(*) FILTER (WHERE s.label = 'neg') AS negative"
            f" FROM {_EDGE_MENTIONS} m{join} LEFT JOIN {_EDGE_LABELS} s ON s.source = m.source AND s.native_id = m.native_id"
            f" WHERE {{edges}} AND {value} IS NOT NULL{raw_scope} GROUP BY ALL",
            f"SELECT r.brand, {column}, floor(epoch(r.bucket) / {b})::BIGINT, sum(r.mentions),"
            " sum(r.mentions) FILTER (WHERE r.label <> ''), sum(r.mentions) FILTER (WHERE r.label = 'neg')"
            f" FROM {table} r WHERE r.bucket >= ? AND r.bucket < ? AND {column} <> ''{rollup_scope} GROUP BY ALL",
            "SELECT brand, scope_value, bucket, sum(total)::BIGINT AS total, coalesce(sum(scored), 0)::BIGINT AS scored,"
            " coalesce(sum(negative), 0)::BIGINT AS negative FROM ({parts}) GROUP BY ALL ORDER BY 1, 2, 3",
            [] if scope is None else list(scope),
            _edge_reader(scope_type == "aspect"),
        )
    finally:
        for temp in (_EDGE_MENTIONS, _EDGE_LABELS, _EDGE_ASPECTS):
            store.con.execute(f"DROP TABLE IF EXISTS {temp}")


@dataclass(frozen=True)
class ScopeWindow:
    """One scope's mentions published in [start, end): what an incident's facts are read from."""

    scope_type: str
    brand: str
    scope_value: str
    start: datetime  # naive UTC
    end: datetime
    negative_only: bool = False  # only the mentions labelled negative (for a negative spike)


def _mentions_in(w: ScopeWindow) -> tuple[str, list[Any]]:
    """(where, params) over mentions m alone: the window's mentions of the scope's brand and, but
    for an aspect scope (aspects are not a column of mentions), of its value."""
    value, _ = _scope_sql(w.scope_type)
    where, params = (
        "coalesce(m.brand, '') = ? AND m.published_at >= ? AND m.published_at < ?",
        [w.brand, w.start, w.end],
    )
    if w.scope_type == "aspect":
        return where, params
    return f"{where} AND {value} = ?", [*params, w.scope_value]


def _in_window(w: ScopeWindow) -> tuple[str, str, list[Any]]:
    """(join, where, params) selecting the window's mentions m, whatever their label."""
    value, join = _scope_sql(w.scope_type)
    where, params = _mentions_in(w)
    if w.scope_type == "aspect":
        return join, f"{where} AND {value} = ?", [*params, w.scope_value]
    return join, where, params


Interval = tuple[str, datetime, datetime]  # brand, published from, published until (excluded)


def _merged(intervals: Sequence[Interval]) -> list[Interval]:
    """Each brand's intervals with the overlapping or touching ones joined."""
    out: list[Interval] = []
    for brand, start, end in sorted(intervals):
        if out and out[-1][0] == brand and start <= out[-1][2]:
            out[-1] = (brand, out[-1][1], max(out[-1][2], end))
        else:
            out.append((brand, start, end))
    return out


class PassRows:
    """The mentions every incident of a detection pass reads its facts from, read once for the
    pass: each updated incident's scope over its window and the week before, with their label,
    tier and aspects (every polarity), in temp tables. Each incident's ScopeRows then selects its
    rows from these instead of reading mentions, sentiment, triage and mention_aspects again (one
    read per incident took 0.4-0.9 s at 10M mentions, load 9: 17 incidents, 14.5 s of a pass).
    `cover` takes the (brand, since, until) of every window at once; a window it does not hold
    is read by key, as outside a pass. Gone with the context."""

    ROWS = "koubei_pass_rows"
    ASPECTS = "koubei_pass_aspects"
    _BASE = "koubei_pass_base"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.intervals: list[Interval] = []  # what the tables hold, per brand

    def cover(self, windows: Sequence[Interval]) -> None:
        """Read, in one statement per table, every mention of each window's brand published in
        its [since, until); replaces what the tables held."""
        self.intervals = _merged(windows)
        con = self.store.con
        if not self.intervals:
            con.execute(f"DROP TABLE IF EXISTS {self.ROWS}")
            con.execute(f"DROP TABLE IF EXISTS {self.ASPECTS}")
            return
        # The outer range lets the zone maps on published_at skip the rest of the table.
        either = " OR ".join(
            "(coalesce(m.brand, '') = ? AND m.published_at >= ? AND m.published_at < ?)" for _ in self.intervals
        )
        params: list[Any] = [min(i[1] for i in self.intervals), max(i[2] for i in self.intervals)]
        params += [value for interval in self.intervals for value in interval]
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self._BASE} AS SELECT m.source, m.native_id, m.brand,"
            " m.product, m.url, m.text, m.published_at,"
            " coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS reach"
            f" FROM mentions m WHERE m.published_at >= ? AND m.published_at < ? AND ({either})",
            params,
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.ROWS} AS SELECT b.*, s.label, t.urgency FROM {self._BASE} b"
            f" LEFT JOIN {rollups.keyed('sentiment', self._BASE)} s ON s.source = b.source AND s.native_id = b.native_id"
            f" LEFT JOIN {rollups.keyed('triage', self._BASE)} t ON t.source = b.source AND t.native_id = b.native_id"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.ASPECTS} AS SELECT source, native_id, aspect, polarity"
            f" FROM {rollups.keyed('mention_aspects', self._BASE)}"
        )
        con.execute(f"DROP TABLE {self._BASE}")

    def holds(self, brand: str, since: datetime, until: datetime) -> bool:
        """Whether the tables hold every mention of `brand` published in [since, until)."""
        return any(b == brand and start <= since and until <= end for b, start, end in self.intervals)

    def __enter__(self) -> PassRows:
        return self

    def __exit__(self, *exc: object) -> None:
        for table in (self.ROWS, self.ASPECTS, self._BASE):
            self.store.con.execute(f"DROP TABLE IF EXISTS {table}")


class ScopeRows:
    """One scope's mentions published from `since` to a window's end (with their label, triage
    and negative aspects) in temp tables: an incident's facts, the window's and the week
    before's, are then small queries over those rows. In a detection pass that read its
    incidents' rows at once (`recent`, a PassRows holding the window), they are selected from
    the pass's tables and no stored table is read. Otherwise the window's mention keys come first
    (mentions by published_at and brand, and the scope's value but for an aspect), and their
    aspects, labels and tiers are looked up by key (`_look_up`). Use as a context manager; the
    temp tables go with it."""

    _BASE = "koubei_scope_base"
    _ROWS = "koubei_scope_rows"
    _ASPECTS = "koubei_scope_aspects"
    _LABELS = "koubei_scope_labels"
    _TIERS = "koubei_scope_tiers"

    def __init__(self, store: Store, w: ScopeWindow, since: datetime, recent: PassRows | None = None) -> None:
        self.store = store
        if recent is not None and recent.holds(w.brand, since, w.end):
            self._read_from(recent, w, since)
            return
        where, params = _mentions_in(replace(w, start=since))
        store.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self._BASE} AS SELECT m.source, m.native_id, m.url, m.text,"
            " m.published_at, coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS reach"
            f" FROM mentions m WHERE {where}",
            params,
        )
        self._read_by_key(w)

    def _look_up(self, into: str, columns: str, table: str) -> None:
        """Temp table `into`: `columns` of `table`'s rows for the base mentions (bykey.rows_into_temp)."""
        bykey.rows_into_temp(self.store, into, columns, table, self._BASE, LOOKUP_KEYS)

    def _read_by_key(self, w: ScopeWindow) -> None:
        """Labels, tiers and negative aspects of the base mentions, each table read once by key."""
        con = self.store.con
        self._look_up(self._ASPECTS, "source, native_id, aspect, polarity", "mention_aspects")
        self._keep_only_negative(w)  # an aspect scope keeps only its own mentions: the lookups below follow
        self._look_up(self._LABELS, "source, native_id, label", "sentiment")
        self._look_up(self._TIERS, "source, native_id, urgency", "triage")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self._ROWS} AS SELECT b.*, s.label, t.urgency FROM {self._BASE} b"
            f" LEFT JOIN {self._LABELS} s ON s.source = b.source AND s.native_id = b.native_id"
            f" LEFT JOIN {self._TIERS} t ON t.source = b.source AND t.native_id = b.native_id"
        )

    def _read_from(self, recent: PassRows, w: ScopeWindow, since: datetime) -> None:
        """The scope's rows, labels, tiers and aspects selected from the pass's tables."""
        where, params = _mentions_in(replace(w, start=since))
        con = self.store.con
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self._BASE} AS SELECT m.source, m.native_id, m.url, m.text,"
            f" m.published_at, m.reach, m.label, m.urgency FROM {recent.ROWS} m WHERE {where}",
            params,
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self._ASPECTS} AS SELECT * FROM {rollups.keyed(recent.ASPECTS, self._BASE)}"
        )
        self._keep_only_negative(w)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {self._ROWS} AS SELECT * FROM {self._BASE}")

    def _keep_only_negative(self, w: ScopeWindow) -> None:
        """With _ASPECTS holding every aspect of the base mentions: keep an aspect scope's own
        mentions (the base ones with its aspect, of any polarity), then only the negative aspects."""
        con = self.store.con
        if w.scope_type == "aspect":
            con.execute(
                f"DELETE FROM {self._BASE} WHERE (source, native_id) NOT IN"
                f" (SELECT source, native_id FROM {self._ASPECTS} WHERE aspect = ?)",
                [w.scope_value],
            )
        con.execute(f"DELETE FROM {self._ASPECTS} WHERE polarity <> 'neg'")

    def __enter__(self) -> ScopeRows:
        return self

    def __exit__(self, *exc: object) -> None:
        for table in (self._BASE, self._ROWS, self._ASPECTS, self._LABELS, self._TIERS):
            self.store.con.execute(f"DROP TABLE IF EXISTS {table}")

    def _labelled(self, w: ScopeWindow) -> tuple[str, list[Any]]:
        """FROM ... WHERE for the rows of `w` (the negative ones only if it asks)."""
        neg = " AND label = 'neg'" if w.negative_only else ""
        return f" FROM {self._ROWS} WHERE published_at >= ? AND published_at < ?{neg}", [w.start, w.end]

    def mentions(self, w: ScopeWindow, limit: int = 20) -> list[IncidentMention]:
        """The mentions that drove an incident, most reach first (ranked 1, 2, ...)."""
        sql, params = self._labelled(w)
        rows = self.store.query(
            f"SELECT source, native_id, url, text, published_at, reach, label{sql}"
            " ORDER BY reach DESC, published_at, source, native_id LIMIT ?",
            [*params, limit],
        )
        return [IncidentMention(rank, *row) for rank, row in enumerate(rows, 1)]

    def texts(self, w: ScopeWindow, limit: int = 500) -> list[tuple[str, datetime]]:
        """The newest texts of the window, with their published_at."""
        sql, params = self._labelled(w)
        rows = self.store.query(f"SELECT text, published_at{sql} ORDER BY published_at DESC LIMIT ?", [*params, limit])
        return [(str(text), published) for text, published in rows]

    def urgent_count(self, w: ScopeWindow) -> int:
        """How many mentions in the window the triage put at tier 5 (red alert), whatever their label."""
        return int(
            self.store.query(
                f"SELECT count(*) FROM {self._ROWS} WHERE published_at >= ? AND published_at < ? AND urgency >= ?",
                [w.start, w.end, RED_ALERT_TIER],
            )[0][0]
        )

    def sources(self, w: ScopeWindow) -> dict[str, int]:
        """Mentions per source in the window, most first."""
        sql, params = self._labelled(w)
        rows = self.store.query(f"SELECT source, count(*){sql} GROUP BY 1 ORDER BY 2 DESC, 1", params)
        return {str(k): int(v) for k, v in rows}

    def negative_aspects(self, w: ScopeWindow) -> dict[str, int]:
        """Negative aspect mentions per aspect in the window (any overall label), most first."""
        rows = self.store.query(
            f"SELECT x.aspect, count(*) FROM {self._ROWS} r JOIN {self._ASPECTS} x"
            " ON x.source = r.source AND x.native_id = r.native_id"
            " WHERE r.published_at >= ? AND r.published_at < ? GROUP BY 1 ORDER BY 2 DESC, 1",
            [w.start, w.end],
        )
        return {str(k): int(v) for k, v in rows}


def window_urgent_count(store: Store, w: ScopeWindow) -> int:
    """How many mentions in the window the triage put at tier 5 (red alert), whatever their label.
    One query: the backtest asks this of every window, where ScopeRows' copies would be wasted."""
    join, where, params = _in_window(w)
    return int(
        store.query(
            f"SELECT count(*) FROM mentions m{join} JOIN triage t ON t.source = m.source AND t.native_id = m.native_id"
            f" WHERE {where} AND t.urgency >= ?",
            [*params, RED_ALERT_TIER],
        )[0][0]
    )


def _window_keys(store: Store, w: ScopeWindow, condition: str = "") -> list[bykey.Key]:
    """The keys of the window's mentions (those meeting `condition` on mentions m), of an aspect
    scope only those with its aspect (their aspect rows looked up by key), in key order. Read from
    mentions by published_at first: a join of the window's mentions to triage, sentiment or
    mention_aspects hashed or scanned the whole table (the brief's reads took 2.3 s at 10M)."""
    where, params = _mentions_in(w)
    keys = [
        (str(source), str(native_id))
        for source, native_id in store.query(
            f"SELECT m.source, m.native_id FROM mentions m WHERE {where}{condition} ORDER BY 1, 2", params
        )
    ]
    if w.scope_type != "aspect":
        return keys
    scoped = {
        (source, native_id)
        for source, native_id, aspect in bykey.fetch(
            store, "source, native_id, aspect", "mention_aspects", keys, LOOKUP_KEYS
        )
        if aspect == w.scope_value
    }
    return [key for key in keys if key in scoped]


def window_urgent_reasons(store: Store, w: ScopeWindow) -> list[str]:
    """The triage reasons of the window's mentions put at tier 5 (what made them red alerts), in key order."""
    keys = _window_keys(store, w)
    tiers = bykey.fetch(store, "source, native_id, urgency", "triage", keys, LOOKUP_KEYS)
    urgent = sorted((str(s), str(n)) for s, n, urgency in tiers if urgency >= RED_ALERT_TIER)
    # Only the few red alerts' reasons are read, by key: reading them with every tier read the column whole.
    reasons = {
        (s, n): str(reason)
        for s, n, reason in bykey.fetch(store, "source, native_id, reason", "triage", urgent, len(urgent))
    }
    return [reasons[key] for key in urgent]


def window_excluded(store: Store, w: ScopeWindow) -> int:
    """How many of the window's mentions (the negative ones of a negative window) the trust checks
    left out (template and copy-paste reviews)."""
    keys = _window_keys(
        store,
        w,
        # Only the flags that exclude (a few thousand) are hashed.
        " AND (m.source, m.native_id) IN (SELECT source, native_id FROM mention_flags WHERE excluded)",
    )
    if not w.negative_only:
        return len(keys)
    labels = bykey.fetch(store, "source, native_id, label", "sentiment", keys, LOOKUP_KEYS)
    return sum(1 for _, _, label in labels if label == "neg")


def source_buckets(store: Store, bucket_seconds: int, since: datetime, until: datetime) -> Any:
    """DataFrame: source, bucket, total (by published_at), for silence checks; whole 5-minute
    buckets from the rollup, as bucket_counts."""
    b = int(bucket_seconds)
    return _rows_and_rollup(
        store,
        since,
        until,
        b,
        f"SELECT m.source, floor(epoch(m.published_at) / {b})::BIGINT AS bucket, count(*) AS total"
        " FROM mentions m WHERE {edges} GROUP BY ALL",
        f"SELECT source, floor(epoch(bucket) / {b})::BIGINT, sum(mentions) FROM rollup_mentions"
        " WHERE bucket >= ? AND bucket < ? GROUP BY ALL",
        "SELECT source, bucket, sum(total)::BIGINT AS total FROM ({parts}) GROUP BY ALL ORDER BY 1, 2",
    )


def stored_tokens(store: Store, keys: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """The keyword tokens kept for these text keys (migration 141), by key; absent keys are missing."""
    if not keys:
        return {}
    rows = store.query(
        "SELECT text_key, tokens FROM keyword_tokens WHERE text_key IN (SELECT unnest(?::BIGINT[]))", [list(keys)]
    )
    return {int(key): tuple(tokens) for key, tokens in rows}


def keep_tokens(store: Store, rows: Sequence[tuple[int, datetime, Sequence[str]]]) -> None:
    """Keep (text key, published_at, tokens) rows that stored_tokens just did not find."""
    if rows:
        keys, published, tokens = zip(*rows, strict=True)
        store.con.execute(
            "INSERT INTO keyword_tokens SELECT unnest(?::BIGINT[]), unnest(?::TIMESTAMP[]), unnest(?::VARCHAR[][])",
            [list(keys), list(published), [list(t) for t in tokens]],
        )


def prune_tokens(store: Store, before: datetime) -> None:
    """Forget the tokens of texts published before `before` (no detector window reaches them)."""
    store.con.execute("DELETE FROM keyword_tokens WHERE published_at < ?", [before])
