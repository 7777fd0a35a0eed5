"""Read side for detection: bucketed counts per scope, and the facts behind an incident.

Buckets are whole multiples of `bucket_seconds` since the epoch (UTC), keyed
by the mention's published_at, so a backfill lands in the buckets its posts
were written in, not in the bucket it was collected in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Store
from storage.incidents import IncidentMention

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


def bucket_counts(store: Store, scope_type: str, bucket_seconds: int, since: datetime, until: datetime) -> Any:
    """DataFrame: brand, scope_value, bucket (int index), total, scored, negative."""
    value, join = _scope_sql(scope_type)
    return store.frame(
        f"SELECT coalesce(m.brand, '') AS brand, {value} AS scope_value,"
        f" floor(epoch(m.published_at) / {int(bucket_seconds)})::BIGINT AS bucket,"
        " count(*) AS total, count(s.label) AS scored,"
        " count(*) FILTER (WHERE s.label = 'neg') AS negative"
        f" FROM mentions m{join} LEFT JOIN sentiment s ON s.source = m.source AND s.native_id = m.native_id"
        f" WHERE m.published_at >= ? AND m.published_at < ? AND {value} IS NOT NULL"
        " GROUP BY ALL ORDER BY 1, 2, 3",
        [since, until],
    )


def _scope_filter(scope_type: str, brand: str, scope_value: str) -> tuple[str, list[Any], str]:
    value, join = _scope_sql(scope_type)
    return join, [brand, scope_value], f"coalesce(m.brand, '') = ? AND {value} = ?"


def _window(
    scope_type: str, brand: str, scope_value: str, start: datetime, end: datetime, negative_only: bool
) -> tuple[str, list[Any]]:
    """FROM ... WHERE for a scope's mentions (with their sentiment as s) in [start, end)."""
    join, params, where = _scope_filter(scope_type, brand, scope_value)
    neg = " AND s.label = 'neg'" if negative_only else ""
    return (
        f" FROM mentions m{join} LEFT JOIN sentiment s ON s.source = m.source AND s.native_id = m.native_id"
        f" WHERE {where} AND m.published_at >= ? AND m.published_at < ?{neg}",
        [*params, start, end],
    )


def window_mentions(
    store: Store,
    scope_type: str,
    brand: str,
    scope_value: str,
    start: datetime,
    end: datetime,
    negative_only: bool,
    limit: int = 20,
) -> list[IncidentMention]:
    """The mentions that drove an incident, most reach first (ranked 1, 2, ...)."""
    window, params = _window(scope_type, brand, scope_value, start, end, negative_only)
    rows = store.query(
        "SELECT DISTINCT m.source, m.native_id, m.url, m.text, m.published_at,"
        f" coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS reach, s.label{window}"
        " ORDER BY reach DESC, m.published_at, m.source, m.native_id LIMIT ?",
        [*params, limit],
    )
    return [IncidentMention(rank, *row) for rank, row in enumerate(rows, 1)]


def window_texts(
    store: Store,
    scope_type: str,
    brand: str,
    scope_value: str,
    start: datetime,
    end: datetime,
    negative_only: bool,
    limit: int = 500,
) -> list[str]:
    window, params = _window(scope_type, brand, scope_value, start, end, negative_only)
    rows = store.query(f"SELECT m.text{window} ORDER BY m.published_at DESC LIMIT ?", [*params, limit])
    return [r[0] for r in rows]


def window_urgent_count(
    store: Store, scope_type: str, brand: str, scope_value: str, start: datetime, end: datetime, min_urgency: int = 5
) -> int:
    """How many mentions in a window the triage put at `min_urgency` or above."""
    join, params, where = _scope_filter(scope_type, brand, scope_value)
    return int(
        store.query(
            f"SELECT count(*) FROM mentions m{join}"
            " JOIN triage t ON t.source = m.source AND t.native_id = m.native_id"
            f" WHERE {where} AND m.published_at >= ? AND m.published_at < ? AND t.urgency >= ?",
            [*params, start, end, min_urgency],
        )[0][0]
    )


def window_breakdown(
    store: Store,
    scope_type: str,
    brand: str,
    scope_value: str,
    start: datetime,
    end: datetime,
    negative_only: bool,
    what: str,
) -> dict[str, int]:
    """Counts by source or by negative aspect in a window."""
    if what == "source":
        window, params = _window(scope_type, brand, scope_value, start, end, negative_only)
        rows = store.query(f"SELECT m.source, count(DISTINCT m.native_id){window} GROUP BY 1 ORDER BY 2 DESC", params)
    elif what == "aspect":
        join, params, where = _scope_filter(scope_type, brand, scope_value)
        rows = store.query(
            f"SELECT x.aspect, count(*) FROM mentions m{join}"
            " JOIN mention_aspects x ON x.source = m.source AND x.native_id = m.native_id AND x.polarity = 'neg'"
            f" WHERE {where} AND m.published_at >= ? AND m.published_at < ? GROUP BY 1 ORDER BY 2 DESC",
            [*params, start, end],
        )
    else:
        raise ValueError(what)
    return {str(k): int(v) for k, v in rows}


def source_buckets(store: Store, bucket_seconds: int, since: datetime, until: datetime) -> Any:
    """DataFrame: source, bucket, total (by published_at), for silence checks."""
    return store.frame(
        f"SELECT source, floor(epoch(published_at) / {int(bucket_seconds)})::BIGINT AS bucket, count(*) AS total"
        " FROM mentions WHERE published_at >= ? AND published_at < ? GROUP BY ALL ORDER BY 1, 2",
        [since, until],
    )
