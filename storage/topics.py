"""Read queries for the topics page (dashboard/pages/topics.py): the aspects' sentiment over time (every
mention of the period, from the rollups), the newest mentions of each day of a period (rising themes
and FAQ candidates are found in them), the aspects and copy-paste groups of its questions, and the mentions of
one theme.

Like the overview they read `trusted_mentions`: copy-paste campaigns neither make a theme rise
nor move an aspect's sentiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from storage import bykey, rollups
from storage.bykey import Key
from storage.db import Store
from storage.queries import LOCAL_BUCKET, MENTIONS, MentionFilter, filter_clauses, filter_where, rollup_usable
from storage.reports import REACH_SQL, Candidate

# The keys the trust checks exclude (a few thousand), read once per query, and the condition keeping a
# mention m that is not one of them: the trusted_mentions view's anti join is slower for a narrow read.
_EXCLUDED = "WITH excluded AS MATERIALIZED (SELECT source, native_id FROM mention_flags WHERE excluded)"
_TRUSTED = "NOT EXISTS (SELECT 1 FROM excluded e WHERE e.source = m.source AND e.native_id = m.native_id)"


def aspect_series(store: Store, f: MentionFilter, bucket: timedelta, tz: str = "UTC") -> pd.DataFrame:
    """One row per local time bucket (in `tz`) and aspect the window's trusted mentions name in it: bucket,
    aspect, mentions, positive, negative, net_sentiment ((positive - negative) / mentions, by the aspect's
    own polarity, not the mention's label). Every mention of the window counts: whole 5-minute buckets
    from rollup_aspects (migration 162 keys it by polarity), the partial ones at the window's edges from
    the rows, as the overview's KPIs read (storage/queries.counted_sql)."""
    seconds = int(bucket.total_seconds())
    local = [f"{seconds} seconds", tz]
    cut = rollups.split(f.start, f.end, rollup_usable(seconds, tz, f))
    times, aspects, polarities = _edge_aspects(store, f, cut)
    parts = [
        f"SELECT {LOCAL_BUCKET.format(t='e.published_at')} AS bucket, e.aspect, e.polarity, count(*) AS n"
        " FROM (SELECT unnest(?::TIMESTAMP[]) AS published_at, unnest(?::VARCHAR[]) AS aspect,"
        " unnest(?::VARCHAR[]) AS polarity) e GROUP BY ALL"
    ]
    values: list[Any] = [*local, times, aspects, polarities]
    if cut.span is not None:
        filters, params = filter_clauses(f, "m")
        parts.append(
            # Summed per 5-minute bucket before the local bucket is worked out: one time zone
            # conversion per bucket and aspect instead of per rollup row (0.94 s -> 0.40 s at 10M, 90 days).
            f"SELECT {LOCAL_BUCKET.format(t='r.bucket')}, r.aspect, r.polarity, sum(r.n) FROM"
            " (SELECT m.bucket, m.aspect, m.polarity, sum(m.mentions) AS n FROM rollup_aspects m"
            f" WHERE {' AND '.join(['NOT m.excluded', 'm.bucket >= ?', 'm.bucket < ?', *filters])} GROUP BY ALL) r"
            " GROUP BY ALL"
        )
        values += [*local, *cut.span, *params]
    # HAVING: on the lake the rollup is a log of signed counts, whose rows may sum to zero.
    return store.frame(
        f"""
        SELECT bucket, aspect, sum(n)::BIGINT AS mentions,
               coalesce(sum(n) FILTER (WHERE polarity = 'pos'), 0)::BIGINT AS positive,
               coalesce(sum(n) FILTER (WHERE polarity = 'neg'), 0)::BIGINT AS negative,
               (positive - negative) / mentions AS net_sentiment
        FROM ({" UNION ALL ".join(parts)})
        GROUP BY ALL HAVING sum(n) > 0 ORDER BY bucket, aspect
        """,
        values,
    )


def _edge_aspects(store: Store, f: MentionFilter, cut: rollups.Split) -> tuple[list[datetime], list[str], list[str]]:
    """The aspects (each with its mention's published_at, and its polarity) of the trusted mentions of
    the window's partial buckets, as three lists. The aspects are looked up by key: a join of the edges'
    mentions to mention_aspects scanned every stored aspect row (0.88 s at 10M mentions), and the
    trusted_mentions view took 0.25 s where the excluded keys read once take 0.03 s."""
    edges, edge_params = cut.edge_sql("m.published_at")
    filters, params = filter_clauses(f, "m")
    published = {
        (source, native_id): at
        for source, native_id, at in store.query(
            f"{_EXCLUDED} SELECT m.source, m.native_id, m.published_at FROM mentions m"
            f" WHERE {' AND '.join([edges, *filters, _TRUSTED])}",
            [*edge_params, *params],
        )
    }
    rows = _aspect_rows_by_key(store, list(published))
    return (
        [published[(source, native_id)] for source, native_id, _, _ in rows],
        [aspect for _, _, aspect, _ in rows],
        [polarity for _, _, _, polarity in rows],
    )


@dataclass(frozen=True)
class Sampled:
    """A mention of a period's sample (period_sample)."""

    source: str
    native_id: str
    published_at: datetime
    text: str
    reach: int


def period_sample(store: Store, f: MentionFilter, limit: int) -> list[Sampled]:
    """At most `limit` trusted mentions of the period: the newest `limit // days` of each day of it (days
    counted from f.start, the last one possibly shorter; at least one a day), so every day of the period
    is in the sample and a read costs the same whatever the period holds. Each day is a top-n by time,
    which DuckDB answers from the newest row groups of the day, not from every row of it; a day with
    fewer mentions is read whole. Newest first within each day, the days in order."""
    days = slices(f)
    most = per_day(f, limit)
    where, params = filter_where(f)
    one_day = (
        f"(SELECT m.source, m.native_id, m.published_at, m.text, {REACH_SQL} AS reach, ? AS day FROM mentions m"
        f" WHERE {where} AND m.published_at >= ? AND m.published_at < ? AND {_TRUSTED}"
        " ORDER BY m.published_at DESC, m.source, m.native_id LIMIT ?)"
    )
    values = [value for n, (start, end) in enumerate(days) for value in (n, *params, start, end, most)]
    rows = store.query(
        # The excluded keys are read once for every day (trusted_mentions would read them per day).
        f"{_EXCLUDED} SELECT source, native_id, published_at, text, reach FROM ({' UNION ALL '.join([one_day] * len(days))})"
        " ORDER BY day, published_at DESC, source, native_id",
        values,
    )
    return [Sampled(source, native_id, at, text, int(reach)) for source, native_id, at, text, reach in rows]


def slices(f: MentionFilter) -> list[tuple[datetime, datetime]]:
    """The period cut into days from f.start (the last one ends at f.end)."""
    day = timedelta(days=1)
    starts = [f.start + n * day for n in range(max(1, -(-(f.end - f.start) // day)))]
    return [(start, min(start + day, f.end)) for start in starts]


def per_day(f: MentionFilter, limit: int) -> int:
    """How many mentions of each day period_sample(f, limit) reads."""
    return max(1, limit // len(slices(f)))


def period_texts(store: Store, f: MentionFilter, limit: int) -> list[str]:
    """The texts of period_sample."""
    return [m.text for m in period_sample(store, f, limit)]


def question_candidates(store: Store, sampled: list[Sampled]) -> list[Candidate]:
    """`sampled` mentions (questions, found by the caller) as FAQ candidates, most reach first (as
    storage.reports.question_candidates orders a period's): their aspects looked up by key, their
    copy-paste groups by a semi join on these keys (no hash table over the flags of the store)."""
    if not sampled:
        return []
    keys = _keys(sampled)
    picked = f"(source, native_id) IN (SELECT source, native_id FROM {_KEYS.format(times='')})"
    aspects = _aspects_by_key(store, [(m.source, m.native_id) for m in sampled])
    groups = {
        (source, native_id): group
        for source, native_id, group in store.query(
            "SELECT source, native_id, duplicate_group FROM mention_flags"
            f" WHERE duplicate_group IS NOT NULL AND {picked}",
            keys,
        )
    }
    candidates = [
        Candidate(
            m.source,
            m.native_id,
            m.published_at,
            m.text,
            m.reach,
            aspects.get((m.source, m.native_id), ()),
            groups.get((m.source, m.native_id), f"{m.source}{chr(31)}{m.native_id}"),
        )
        for m in sampled
    ]
    return sorted(candidates, key=lambda c: (-c.reach, datetime.max - c.published_at, c.source, c.native_id))


def _aspects_by_key(store: Store, keys: list[Key]) -> dict[Key, tuple[str, ...]]:
    """The aspects of these mentions, looked up through the index on native_id (storage/bykey.py):
    a semi join on (source, native_id) scanned every stored aspect row (6.5M at 10M mentions)."""
    found: dict[Key, list[str]] = {}
    for source, native_id, aspect, _ in _aspect_rows_by_key(store, keys):
        found.setdefault((source, native_id), []).append(aspect)
    return {key: tuple(sorted(aspects)) for key, aspects in found.items()}


def _aspect_rows_by_key(store: Store, keys: list[Key]) -> list[tuple[str, str, str, str]]:
    """(source, native_id, aspect, polarity) of these mentions, through the index on native_id."""
    rows: list[tuple[str, str, str, str]] = []
    for part in bykey.slices(keys):
        rows += store.query(
            f"SELECT source, native_id, aspect, polarity FROM mention_aspects WHERE {bykey.BY_KEY}",
            bykey.key_params(part),
        )
    return rows


# The keys of sampled mentions (and with `times` their published_at), as a table from list parameters.
_KEYS = "(SELECT unnest(?::VARCHAR[]) AS source, unnest(?::VARCHAR[]) AS native_id{times})"


def _keys(sampled: list[Sampled]) -> list[list[str]]:
    return [[m.source for m in sampled], [m.native_id for m in sampled]]


def mentions_with(store: Store, f: MentionFilter, word: str, limit: int = 100) -> pd.DataFrame:
    """The newest mentions of the period whose text holds `word` (LIKE: no case to fold in Chinese)."""
    where, params = filter_where(f)
    return store.frame(
        "SELECT m.published_at, m.source, m.brand, m.product, m.text, m.url, s.label"
        f" FROM {MENTIONS} m LEFT JOIN sentiment s USING (source, native_id)"
        f" WHERE {where} AND contains(m.text, ?)"
        " ORDER BY m.published_at DESC, m.source, m.native_id LIMIT ?",
        [*params, word, limit],
    )
