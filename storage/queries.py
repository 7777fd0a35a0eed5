"""Read queries for the dashboard overview and its exports.

All times in and out are UTC (naive TIMESTAMP, as stored) except the time
buckets of `volume_series`, which are cut in the viewer's time zone so that a
"day" is a local day (China has no DST, but any IANA zone works through ICU).
Filters are a frozen `MentionFilter`; an empty tuple means "all".

Counts, shares and lists read `trusted_mentions` (migration 021): the mentions
not excluded by a trust signal (template reviews, copy-paste campaigns). An
incident's own driving mentions are shown as stored. The KPIs and the trend
count whole 5-minute buckets from the rollups kept at write time
(storage/rollups.py) and only the rows of the partial buckets at the window's
edges, so their cost follows the window, not the store.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from storage import bykey, rollups
from storage.bykey import Key
from storage.db import Store, migration_files
from storage.incidents import Incident, incidents_where

# Incidents that still need someone: not resolved yet. "acknowledged" counts as
# open because the problem is still there, someone has only seen it.
OPEN_STATUSES = ("open", "acknowledged")
MENTIONS = "trusted_mentions"
# A local time bucket (its width and zone are parameters) of a UTC timestamp {t}, for counted_sql.
LOCAL_BUCKET = "time_bucket(?::INTERVAL, timezone(?, {t} AT TIME ZONE 'UTC'))"


@dataclass(frozen=True)
class MentionFilter:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    brands: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def previous(self) -> MentionFilter:
        """The period of the same length just before this one."""
        span = self.end - self.start
        return replace(self, start=self.start - span, end=self.start)


@dataclass(frozen=True)
class Kpis:
    mentions: int
    scored: int
    negative: int
    avg_score: float | None

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored else None


def filter_clauses(f: MentionFilter, alias: str) -> tuple[list[str], list[Any]]:
    """The brand, product and source conditions of `f` on the columns of `alias` (of mentions or a rollup)."""
    clauses, params = [], []
    for column, values in (("brand", f.brands), ("product", f.products), ("source", f.sources)):
        if values:
            clauses.append(f"list_contains(?::VARCHAR[], {alias}.{column})")
            params.append(list(values))
    return clauses, params


def filter_where(f: MentionFilter, alias: str = "m") -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) that keeps the mentions `alias` of the filter `f`."""
    clauses, params = filter_clauses(f, alias)
    return " AND ".join([f"{alias}.published_at >= ?", f"{alias}.published_at < ?", *clauses]), [
        f.start,
        f.end,
        *params,
    ]


def counted_sql(
    f: MentionFilter,
    bucket: str,
    bucket_params: list[Any],
    usable: bool = True,
    keys: tuple[str, ...] = (),
    trusted: bool = True,
) -> tuple[str, list[Any]]:
    """Per `bucket` (an expression over a UTC timestamp `{t}`, with its parameters) and `keys` (columns
    of both mentions and the rollup, such as brand or source): mentions, scored, positive, negative and
    avg_score of the filter's mentions (`trusted`: the ones no trust check left out); whole 5-minute
    buckets from the rollup, the partial ones at the window's edges from the rows (all rows when not
    `usable`), so the cost follows the window and the combinations in it, not the store."""
    cut = rollups.split(f.start, f.end, usable)
    filters, params = filter_clauses(f, "m")
    edges, edge_params = cut.edge_sql("m.published_at")
    keyed = "".join(f", m.{key}" for key in keys)
    parts = [
        f"SELECT {bucket.format(t='m.published_at')} AS bucket{keyed}, count(*) AS mentions, count(s.score) AS scored,"
        " count(*) FILTER (WHERE s.label = 'pos') AS positive, count(*) FILTER (WHERE s.label = 'neg') AS negative,"
        " sum(s.score) AS score_sum"
        f" FROM {MENTIONS if trusted else 'mentions'} m LEFT JOIN sentiment s USING (source, native_id)"
        f" WHERE {' AND '.join([edges, *filters])} GROUP BY ALL"
    ]
    values = [*bucket_params, *edge_params, *params]
    if cut.span is not None:
        kept = ["NOT m.excluded"] if trusted else []
        parts.append(
            f"SELECT {bucket.format(t='m.bucket')} AS bucket{keyed}, sum(m.mentions),"
            " sum(m.mentions) FILTER (WHERE m.label <> ''), sum(m.mentions) FILTER (WHERE m.label = 'pos'),"
            " sum(m.mentions) FILTER (WHERE m.label = 'neg'), sum(m.score_sum)::DOUBLE"
            f" FROM rollup_mentions m WHERE {' AND '.join([*kept, 'm.bucket >= ?', 'm.bucket < ?', *filters])}"
            " GROUP BY ALL"
        )
        values += [*bucket_params, *cut.span, *params]
    sql = (
        f"SELECT bucket{''.join(f', {key}' for key in keys)}, coalesce(sum(mentions), 0)::BIGINT AS mentions,"
        " coalesce(sum(scored), 0)::BIGINT AS scored, coalesce(sum(positive), 0)::BIGINT AS positive,"
        " coalesce(sum(negative), 0)::BIGINT AS negative, sum(score_sum) / nullif(sum(scored), 0) AS avg_score"
        f" FROM ({' UNION ALL '.join(parts)}) GROUP BY ALL"
    )
    return sql, values


def rollup_usable(seconds: int, tz: str, f: MentionFilter) -> bool:
    """Whether local buckets of `seconds` in `tz` are made of whole rollup buckets over the window."""
    return seconds % rollups.BUCKET_SECONDS == 0 and _on_rollup_boundaries(tz, f)


def _on_rollup_boundaries(tz: str, f: MentionFilter) -> bool:
    """Whether the zone's local buckets start on the rollup's 5-minute boundaries in the window
    (every zone today; some historical local mean times do not)."""
    zone = ZoneInfo(tz)
    offsets = (moment.replace(tzinfo=UTC).astimezone(zone).utcoffset() for moment in (f.start, f.end))
    return all(offset is not None and offset.total_seconds() % rollups.BUCKET_SECONDS == 0 for offset in offsets)


def missing_migrations(store: Store) -> list[str]:
    """Migrations this code has that the database has not applied yet. A read-only
    reader cannot migrate, so it must say so instead of failing on a missing table."""
    try:
        applied = {row[0] for row in store.query("SELECT version FROM schema_migrations")}
    except Exception:  # noqa: BLE001 - no schema_migrations table at all: nothing applied
        applied = set()
    return [name for version, name, _ in migration_files() if version not in applied]


def filter_options(store: Store) -> dict[str, Any]:
    """What the filters can offer: brands, products per brand, sources, the data's time span. Read
    from rollup_days (kept at write time; summed, as the lake keeps it as a log of signed counts) and
    the rows of the first and last day only, so the cost follows the catalogue, not the store."""
    combos = store.query(
        "SELECT brand, product, source, min(day), max(day) FROM rollup_days"
        " GROUP BY ALL HAVING sum(mentions) > 0 ORDER BY brand, product, source"
    )
    products: dict[str, list[str]] = {}
    for brand, product, _, _, _ in combos:
        if brand:
            known = products.setdefault(brand, [])
            if product and product not in known:
                known.append(product)
    sources = sorted({row[2] for row in combos})
    first, last = _exact_span(
        store, min((r[3] for r in combos), default=None), max((r[4] for r in combos), default=None)
    )
    return {"brands": list(products), "products": products, "sources": sources, "first": first, "last": last}


def _exact_span(store: Store, first_day: date | None, last_day: date | None) -> tuple[datetime | None, datetime | None]:
    """The first and last published_at, read from the rows of those two (UTC) days only."""
    if first_day is None or last_day is None:
        return None, None
    day = timedelta(days=1)
    first = store.query(
        "SELECT min(published_at) FROM mentions WHERE published_at >= ? AND published_at < ?",
        [first_day, first_day + day],
    )[0][0]
    last = store.query(
        "SELECT max(published_at) FROM mentions WHERE published_at >= ? AND published_at < ?",
        [last_day, last_day + day],
    )[0][0]
    return first, last


def kpis(store: Store, f: MentionFilter) -> Kpis:
    counted, params = counted_sql(f, "0", [])
    rows = store.query(f"SELECT mentions, scored, negative, avg_score FROM ({counted})", params)
    if not rows:
        return Kpis(mentions=0, scored=0, negative=0, avg_score=None)
    mentions, scored, negative, avg_score = rows[0]
    return Kpis(mentions=mentions, scored=scored, negative=negative, avg_score=avg_score)


def volume_series(store: Store, f: MentionFilter, bucket: timedelta, tz: str = "UTC") -> pd.DataFrame:
    """One row per time bucket (local time in `tz`, gaps filled with zero): mentions,
    scored, negative, avg_score, negative_share."""
    seconds = int(bucket.total_seconds())
    step = f"{seconds} seconds"
    usable = rollup_usable(seconds, tz, f)
    counted, params = counted_sql(f, LOCAL_BUCKET, [step, tz], usable)
    sql = f"""
        WITH counted AS ({counted}), grid AS (
            SELECT unnest(generate_series(
                time_bucket(?::INTERVAL, timezone(?, ?::TIMESTAMP AT TIME ZONE 'UTC')),
                timezone(?, ?::TIMESTAMP AT TIME ZONE 'UTC') - INTERVAL 1 microsecond,
                ?::INTERVAL)) AS bucket
        )
        SELECT grid.bucket, coalesce(mentions, 0) AS mentions, coalesce(scored, 0) AS scored,
               coalesce(negative, 0) AS negative, avg_score,
               CASE WHEN scored > 0 THEN negative / scored END AS negative_share
        FROM grid LEFT JOIN counted USING (bucket)
        ORDER BY grid.bucket
    """
    frame = store.frame(sql, [*params, step, tz, f.start, tz, f.end, step])
    return frame.astype({"mentions": "int64", "scored": "int64", "negative": "int64"})


def _incident_where(f: MentionFilter, statuses: tuple[str, ...] | None) -> tuple[str, list[Any]]:
    """The incidents a filter shows: windows overlapping its period, of its brands, about its
    products (the product scope, or driving mentions of the product) and drawn from its sources
    (the source scope, or mentions counted from the source). A source outage concerns every
    brand and product, so only the source filter applies to it."""
    clauses = ["window_start < ?", "window_end >= ?"]
    params: list[Any] = [f.end, f.start]
    if statuses:
        clauses.append("list_contains(?::VARCHAR[], status)")
        params.append(list(statuses))
    if f.brands:
        clauses.append("(kind = 'source_down' OR list_contains(?::VARCHAR[], brand))")
        params.append(list(f.brands))
    if f.products:
        clauses.append(
            "(kind = 'source_down' OR (scope_type = 'product' AND list_contains(?::VARCHAR[], scope_value))"
            " OR EXISTS (SELECT 1 FROM incident_mentions im JOIN mentions m USING (source, native_id)"
            " WHERE im.incident_id = incidents.id AND list_contains(?::VARCHAR[], m.product)))"
        )
        params += [list(f.products), list(f.products)]
    if f.sources:
        clauses.append(
            "((scope_type = 'source' AND list_contains(?::VARCHAR[], scope_value))"
            " OR list_has_any(?::VARCHAR[], json_extract_string(sources, '$[*].source')))"
        )
        params += [list(f.sources), list(f.sources)]
    return " AND ".join(clauses), params


def filtered_incidents(
    store: Store, f: MentionFilter, statuses: tuple[str, ...] | None = None, limit: int = 1000
) -> list[Incident]:
    """The incidents the filter shows (see _incident_where), in the queue's order."""
    where, params = _incident_where(f, statuses)
    return incidents_where(
        store,
        f"WHERE {where} ORDER BY (status = 'resolved'), severity DESC, window_start DESC LIMIT ?",
        [*params, limit],
    )


def incident_deliveries(store: Store, incident_ids: list[str]) -> pd.DataFrame:
    """Who was told about the incidents: route, channel, event and delivery status of each alert."""
    return store.frame(
        "SELECT incident_id, route, channel, event, status, sent_at FROM alert_outbox"
        " WHERE list_contains(?::VARCHAR[], incident_id) ORDER BY created_at, route, channel",
        [incident_ids],
    )


# The window's newest keys are read this many at a time, newest first, and their labels looked up by
# key until `limit` negatives are found; after FALLBACK_KEYS keys (a filter with few negatives) the
# rest of the window is joined to the scores instead, as one scan costs less than that many lookups.
NEWEST_KEYS = 150
FALLBACK_KEYS = 1500


def latest_negative(store: Store, f: MentionFilter, limit: int = 50) -> pd.DataFrame:
    """The newest mentions labelled negative in the filter. sentiment keeps no time, so a join on it
    scanned every negative score of the store (3.78M at 10M mentions, 2.7 s) for 50 rows: the window's
    newest keys are read through the time order of `mentions` instead and their labels looked up by key
    (storage/bykey.py), page by page until `limit` are negative; only those rows are read whole."""
    where, params = filter_where(f)
    found: dict[Key, tuple[datetime, float]] = {}
    after: tuple[datetime, str, str] | None = None
    read = 0
    while len(found) < limit and read < FALLBACK_KEYS:
        page = _newest_keys(store, where, params, after, NEWEST_KEYS)
        left_out = _excluded_among(store, [(source, native_id) for _, source, native_id in page])
        times = {(source, native_id): at for at, source, native_id in page if (source, native_id) not in left_out}
        found.update({key: (times[key], score) for key, score in _negative_scores(store, list(times)).items()})
        read += len(page)
        if len(page) < NEWEST_KEYS:
            break
        after = page[-1]
    else:
        if len(found) < limit and after is not None:
            found.update(_negative_scores_before(store, where, params, after, limit - len(found)))
    return _whole_rows(store, found, limit)


def _newest_keys(
    store: Store, where: str, params: list[Any], after: tuple[datetime, str, str] | None, count: int
) -> list[tuple[datetime, str, str]]:
    """The next `count` mentions of the window, newest first, after the key `after`, trusted or not
    (_excluded_among tells): through trusted_mentions, whose anti join reads every excluding flag of the
    store, a page took 0.6-1.0 s at 10M mentions with a brand picked, against 6-23 ms from mentions."""
    older = " AND (m.published_at, m.source, m.native_id) < (?, ?, ?)" if after else ""
    return [
        (at, source, native_id)
        for at, source, native_id in store.query(
            f"SELECT m.published_at, m.source, m.native_id FROM mentions m WHERE {where}{older}"
            " ORDER BY m.published_at DESC, m.source DESC, m.native_id DESC LIMIT ?",
            [*params, *(after or ()), count],
        )
    ]


def _excluded_among(store: Store, keys: list[Key]) -> set[Key]:
    """Those of `keys` a trust check left out (trusted_mentions' condition). mention_flags has no index
    on native_id: its excluded column is read first (a few thousand of millions are true), then their ids
    checked against the keys' (0.1 s at 10M mentions, loaded; by key without an index, 11-14 s)."""
    wanted = set(keys)
    rows = store.query(
        "SELECT source, native_id FROM mention_flags WHERE excluded AND list_contains(?, native_id)",
        [[native_id for _, native_id in keys]],
    )
    return {(source, native_id) for source, native_id in rows if (source, native_id) in wanted}


def _negative_scores(store: Store, keys: list[Key]) -> dict[Key, float]:
    """The scores of those of `keys` labelled negative, looked up by key."""
    found: dict[Key, float] = {}
    for part in bykey.slices(keys):
        rows = store.query(
            # The label is checked here: as a condition in the query it makes DuckDB scan instead of using the index.
            f"SELECT source, native_id, score, label FROM sentiment WHERE {bykey.BY_KEY}",
            bykey.key_params(part),
        )
        found.update({(source, native_id): score for source, native_id, score, label in rows if label == "neg"})
    return found


def _negative_scores_before(
    store: Store, where: str, params: list[Any], before: tuple[datetime, str, str], limit: int
) -> dict[Key, tuple[datetime, float]]:
    """The newest `limit` negative scores of the window's mentions older than the key `before`, by a join."""
    rows = store.query(
        f"SELECT m.source, m.native_id, m.published_at, s.score FROM {MENTIONS} m JOIN sentiment s USING (source, native_id)"
        f" WHERE s.label = 'neg' AND {where} AND (m.published_at, m.source, m.native_id) < (?, ?, ?)"
        " ORDER BY m.published_at DESC, m.source DESC, m.native_id DESC LIMIT ?",
        [*params, *before, limit],
    )
    return {(source, native_id): (at, score) for source, native_id, at, score in rows}


def _whole_rows(store: Store, found: dict[Key, tuple[datetime, float]], limit: int) -> pd.DataFrame:
    """The mentions `found` (with their times and scores) as the overview lists them, newest first, at most `limit`."""
    newest = sorted(found, key=lambda key: (found[key][0], key), reverse=True)[:limit]
    times = [found[key][0] for key in newest]
    frame = store.frame(
        "SELECT m.published_at, m.source, m.native_id, m.brand, m.product, m.text, m.url, m.rating,"
        " m.likes, m.reposts, m.replies FROM mentions m"
        " WHERE list_contains(?, {'source': m.source, 'native_id': m.native_id})"
        # The rows' time span, so that the read of whole rows skips the rest of the table.
        " AND m.published_at BETWEEN ? AND ?"
        " ORDER BY m.published_at DESC, m.source DESC, m.native_id DESC",
        [
            [{"source": source, "native_id": native_id} for source, native_id in newest],
            min(times, default=None),
            max(times, default=None),
        ],
    )
    frame["score"] = [found[(source, native_id)][1] for source, native_id in zip(frame["source"], frame["native_id"])]
    columns = [
        "published_at",
        "source",
        "brand",
        "product",
        "text",
        "url",
        "score",
        "rating",
        "likes",
        "reposts",
        "replies",
    ]
    return frame[columns]


def review_summary(store: Store, f: MentionFilter) -> pd.DataFrame:
    """Per brand, product and source: volume, sentiment mix and reach, for export."""
    where, params = filter_where(f)
    return store.frame(
        "SELECT m.brand, m.product, m.source, count(*) AS mentions, count(s.score) AS scored,"
        " avg(s.score) AS avg_score,"
        " count(*) FILTER (WHERE s.label = 'pos') AS positive,"
        " count(*) FILTER (WHERE s.label = 'neu') AS neutral,"
        " count(*) FILTER (WHERE s.label = 'neg') AS negative,"
        " CASE WHEN count(s.score) > 0 THEN count(*) FILTER (WHERE s.label = 'neg') / count(s.score) END"
        "   AS negative_share,"
        " avg(m.rating) AS avg_rating,"
        " (coalesce(sum(m.likes), 0) + coalesce(sum(m.reposts), 0) + coalesce(sum(m.replies), 0))::BIGINT AS reach,"
        " min(m.published_at) AS first_at, max(m.published_at) AS last_at"
        f" FROM {MENTIONS} m LEFT JOIN sentiment s USING (source, native_id) WHERE {where}"
        " GROUP BY ALL ORDER BY mentions DESC, m.brand, m.product, m.source",
        params,
    )
