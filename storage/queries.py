"""Read queries for the dashboard overview and its exports.

All times in and out are UTC (naive TIMESTAMP, as stored) except the time
buckets of `volume_series`, which are cut in the viewer's time zone so that a
"day" is a local day (China has no DST, but any IANA zone works through ICU).
Filters are a frozen `MentionFilter`; an empty tuple means "all".

Counts, shares and lists read `trusted_mentions` (migration 021): the mentions
not excluded by a trust signal (template reviews, copy-paste campaigns), the
same population the spike detector sees. An incident's own driving mentions
are shown as stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from storage.db import Store, migration_files

# Incidents that still need someone: not resolved yet. "acknowledged" counts as
# open because the problem is still there, someone has only seen it.
OPEN_STATUSES = ("open", "acknowledged")
MENTIONS = "trusted_mentions"
INCIDENT_COLUMNS = (
    "id, kind, scope_type, brand, scope_value, bucket, window_start, window_end, peak_at,"
    " observed, expected, score, severity, status, keywords, aspects, sources"
)


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


def _where(f: MentionFilter, alias: str = "m") -> tuple[str, list[Any]]:
    clauses = [f"{alias}.published_at >= ?", f"{alias}.published_at < ?"]
    params: list[Any] = [f.start, f.end]
    for column, values in (("brand", f.brands), ("product", f.products), ("source", f.sources)):
        if values:
            clauses.append(f"list_contains(?::VARCHAR[], {alias}.{column})")
            params.append(list(values))
    return " AND ".join(clauses), params


def _brand_clause(brands: tuple[str, ...], params: list[Any]) -> str:
    if not brands:
        return "TRUE"
    params.append(list(brands))
    return "list_contains(?::VARCHAR[], brand)"


def missing_migrations(store: Store) -> list[str]:
    """Migrations this code has that the database has not applied yet. A read-only
    reader cannot migrate, so it must say so instead of failing on a missing table."""
    try:
        applied = {row[0] for row in store.query("SELECT version FROM schema_migrations")}
    except Exception:  # noqa: BLE001 - no schema_migrations table at all: nothing applied
        applied = set()
    return [name for version, name, _ in migration_files() if version not in applied]


def filter_options(store: Store) -> dict[str, Any]:
    """What the filters can offer: brands, products per brand, sources, the data's time span."""
    pairs = store.query("SELECT DISTINCT brand, product FROM mentions WHERE brand IS NOT NULL ORDER BY brand, product")
    sources = [r[0] for r in store.query("SELECT DISTINCT source FROM mentions ORDER BY source")]
    first, last = store.query("SELECT min(published_at), max(published_at) FROM mentions")[0]
    products: dict[str, list[str]] = {}
    for brand, product in pairs:
        products.setdefault(brand, [])
        if product is not None:
            products[brand].append(product)
    return {"brands": list(products), "products": products, "sources": sources, "first": first, "last": last}


def kpis(store: Store, f: MentionFilter) -> Kpis:
    where, params = _where(f)
    mentions, scored, negative, avg_score = store.query(
        "SELECT count(*), count(s.score), count(*) FILTER (WHERE s.label = 'neg'), avg(s.score)"
        f" FROM {MENTIONS} m LEFT JOIN sentiment s USING (source, native_id) WHERE {where}",
        params,
    )[0]
    return Kpis(mentions=mentions, scored=scored, negative=negative, avg_score=avg_score)


def open_incident_count(store: Store, brands: tuple[str, ...] = ()) -> int:
    params: list[Any] = [list(OPEN_STATUSES)]
    brand_sql = _brand_clause(brands, params)
    return int(
        store.query(
            f"SELECT count(*) FROM incidents WHERE list_contains(?::VARCHAR[], status) AND {brand_sql}", params
        )[0][0]
    )


def incidents_started(store: Store, start: datetime, end: datetime, brands: tuple[str, ...] = ()) -> int:
    """Incidents (any status) whose window began in [start, end)."""
    params: list[Any] = [start, end]
    brand_sql = _brand_clause(brands, params)
    return int(
        store.query(
            f"SELECT count(*) FROM incidents WHERE window_start >= ? AND window_start < ? AND {brand_sql}", params
        )[0][0]
    )


def volume_series(store: Store, f: MentionFilter, bucket: timedelta, tz: str = "UTC") -> pd.DataFrame:
    """One row per time bucket (local time in `tz`, gaps filled with zero): mentions,
    scored, negative, avg_score, negative_share."""
    where, params = _where(f)
    step = f"{int(bucket.total_seconds())} seconds"
    sql = f"""
        WITH counted AS (
            SELECT time_bucket(?::INTERVAL, timezone(?, m.published_at AT TIME ZONE 'UTC')) AS bucket,
                   count(*) AS mentions, count(s.score) AS scored,
                   count(*) FILTER (WHERE s.label = 'neg') AS negative, avg(s.score) AS avg_score
            FROM {MENTIONS} m LEFT JOIN sentiment s USING (source, native_id)
            WHERE {where}
            GROUP BY 1
        ), grid AS (
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
    frame = store.frame(sql, [step, tz, *params, step, tz, f.start, tz, f.end, step])
    return frame.astype({"mentions": "int64", "scored": "int64", "negative": "int64"})


def incidents_between(store: Store, start: datetime, end: datetime, brands: tuple[str, ...] = ()) -> pd.DataFrame:
    """Incidents (any status) whose window overlaps [start, end): the chart's markers."""
    params: list[Any] = [end, start]
    brand_sql = _brand_clause(brands, params)
    return store.frame(
        f"SELECT {INCIDENT_COLUMNS} FROM incidents WHERE window_start < ? AND window_end >= ? AND {brand_sql}"
        " ORDER BY window_start",
        params,
    )


def open_incidents(store: Store, brands: tuple[str, ...] = (), limit: int = 100) -> pd.DataFrame:
    """Unresolved incidents, most severe and most recent first, with how many mentions drove each."""
    params: list[Any] = [list(OPEN_STATUSES)]
    brand_sql = _brand_clause(brands, params)
    params.append(limit)
    return store.frame(
        f"SELECT {INCIDENT_COLUMNS},"
        " (SELECT count(*) FROM incident_mentions im WHERE im.incident_id = incidents.id) AS mention_count"
        f" FROM incidents WHERE list_contains(?::VARCHAR[], status) AND {brand_sql}"
        " ORDER BY severity DESC, peak_at DESC LIMIT ?",
        params,
    )


def incident_mentions(store: Store, incident_id: str, limit: int = 50) -> pd.DataFrame:
    """The mentions that drove an incident, by rank (1 = most reach)."""
    return store.frame(
        "SELECT im.rank, m.published_at, m.source, m.brand, m.product, m.text, m.url, s.score, s.label,"
        " m.likes, m.reposts, m.replies"
        " FROM incident_mentions im JOIN mentions m USING (source, native_id)"
        " LEFT JOIN sentiment s USING (source, native_id)"
        " WHERE im.incident_id = ? ORDER BY im.rank LIMIT ?",
        [incident_id, limit],
    )


def latest_negative(store: Store, f: MentionFilter, limit: int = 50) -> pd.DataFrame:
    """The newest mentions labelled negative in the filter."""
    where, params = _where(f)
    return store.frame(
        "SELECT m.published_at, m.source, m.brand, m.product, m.text, m.url, s.score, m.rating,"
        " m.likes, m.reposts, m.replies"
        f" FROM {MENTIONS} m JOIN sentiment s USING (source, native_id) WHERE s.label = 'neg' AND {where}"
        " ORDER BY m.published_at DESC, m.source, m.native_id LIMIT ?",
        [*params, limit],
    )


def review_summary(store: Store, f: MentionFilter) -> pd.DataFrame:
    """Per brand, product and source: volume, sentiment mix and reach, for export."""
    where, params = _where(f)
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
