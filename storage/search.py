"""Finding mentions by watch query (querylang), for `koubei search` and the mentions explorer page:
the query compiled to a SQL predicate (storage/predicates.py), newest or widest reaching first,
paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from querylang import Query
from storage.db import Store
from storage.predicates import predicate

Order = Literal["time", "reach"]
_ORDER = {
    "time": "m.published_at DESC, m.source, m.native_id",
    "reach": "reach DESC, m.published_at DESC, m.source, m.native_id",
}


@dataclass(frozen=True)
class Found:
    """A mention as search shows it. The text is as stored: mask it before showing (koubei/privacy.py)."""

    source: str
    native_id: str
    published_at: datetime
    text: str
    url: str | None
    reach: int
    brand: str | None
    label: str | None  # pos | neu | neg; None before scoring
    tier: int | None  # 1-5 for triaged mentions
    aspects: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.source}:{self.native_id}"


@dataclass(frozen=True)
class Window:
    """Published at or after `since` and before `until` (naive UTC; None: open)."""

    since: datetime | None = None
    until: datetime | None = None


def _where(query: Query, window: Window) -> tuple[str, list[object]]:
    matched = predicate(query, alias="m")
    conditions, params = [matched.sql], list(matched.params)
    if window.since is not None:
        conditions.append("m.published_at >= ?")
        params.append(window.since)
    if window.until is not None:
        conditions.append("m.published_at < ?")
        params.append(window.until)
    return " AND ".join(conditions), params


def search(
    store: Store, query: Query, window: Window = Window(), limit: int = 50, offset: int = 0, order: Order = "time"
) -> list[Found]:
    """A page of the mentions the query matches."""
    where, params = _where(query, window)
    rows = store.query(
        f"""
        WITH page AS (
            SELECT m.source, m.native_id, m.published_at, m.text, m.url,
                   coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS reach, m.brand
            FROM mentions m WHERE {where}
            ORDER BY {_ORDER[order]} LIMIT ? OFFSET ?
        )
        SELECT m.*, s.label, t.urgency,
               (SELECT list(DISTINCT a.aspect ORDER BY a.aspect) FROM mention_aspects a
                WHERE a.source = m.source AND a.native_id = m.native_id) AS aspects
        FROM page m
        LEFT JOIN sentiment s USING (source, native_id)
        LEFT JOIN triage t USING (source, native_id)
        ORDER BY {_ORDER[order]}
        """,
        [*params, limit, offset],
    )
    return [
        Found(str(s), str(n), at, str(text), url, int(reach), brand, label, tier, tuple(aspects or ()))
        for s, n, at, text, url, reach, brand, label, tier, aspects in rows
    ]


def count_found(store: Store, query: Query, window: Window = Window()) -> int:
    where, params = _where(query, window)
    row = store.query(f"SELECT count(*) FROM mentions m WHERE {where}", params)
    return int(row[0][0]) if row else 0
