"""Read queries for the topics page (dashboard/pages/topics.py): a fixed sample of a period's mentions
(its aspects' sentiment over time, rising themes and FAQ candidates are found in it), the aspects
of the sample and the copy-paste groups of its questions, and the mentions of one theme.

Like the overview they read `trusted_mentions`: copy-paste campaigns neither make a theme rise
nor move an aspect's sentiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from storage.db import Store
from storage.queries import MENTIONS, MentionFilter, filter_where
from storage.reports import REACH_SQL, Candidate


def aspect_series(store: Store, sampled: list[Sampled], bucket: timedelta, tz: str = "UTC") -> pd.DataFrame:
    """One row per local time bucket (in `tz`) and aspect the `sampled` mentions name in it: bucket, aspect,
    mentions, positive, negative, net_sentiment ((positive - negative) / mentions, by the aspect's own
    polarity). The aspects of these keys only: no hash table over the window's or the store's aspects."""
    step = f"{int(bucket.total_seconds())} seconds"
    return store.frame(
        f"""
        SELECT time_bucket(?::INTERVAL, timezone(?, m.published_at AT TIME ZONE 'UTC')) AS bucket, a.aspect,
               count(*) AS mentions, count(*) FILTER (WHERE a.polarity = 'pos') AS positive,
               count(*) FILTER (WHERE a.polarity = 'neg') AS negative,
               (count(*) FILTER (WHERE a.polarity = 'pos') - count(*) FILTER (WHERE a.polarity = 'neg'))
                   / count(*) AS net_sentiment
        FROM {_KEYS.format(times=", unnest(?::TIMESTAMP[]) AS published_at")} m
        JOIN mention_aspects a USING (source, native_id)
        GROUP BY ALL ORDER BY bucket, aspect
        """,
        [step, tz, *_keys(sampled), [m.published_at for m in sampled]],
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
    """At most `limit` mentions of the period: a fixed sample (by a hash of the key) when there are more,
    so a share is measured on the same mentions every time; in the sample's order, so the first n of
    it are the sample of n. One top-n read of the window: the page reads this many texts, whatever the
    window holds."""
    where, params = filter_where(f)
    rows = store.query(
        f"SELECT m.source, m.native_id, m.published_at, m.text, {REACH_SQL} FROM {MENTIONS} m WHERE {where}"
        " ORDER BY hash(m.source, m.native_id), m.source, m.native_id LIMIT ?",
        [*params, limit],
    )
    return [Sampled(source, native_id, at, text, int(reach)) for source, native_id, at, text, reach in rows]


def period_texts(store: Store, f: MentionFilter, limit: int) -> list[str]:
    """The texts of period_sample."""
    return [m.text for m in period_sample(store, f, limit)]


def question_candidates(store: Store, sampled: list[Sampled]) -> list[Candidate]:
    """`sampled` mentions (questions, found by the caller) as FAQ candidates, most reach first (as
    storage.reports.question_candidates orders a period's): their aspects and copy-paste group read
    for these keys only (a semi join, no hash table over the aspects or flags of the store)."""
    if not sampled:
        return []
    keys = _keys(sampled)
    picked = f"(source, native_id) IN (SELECT source, native_id FROM {_KEYS.format(times='')})"
    aspects = {
        (source, native_id): tuple(found)
        for source, native_id, found in store.query(
            f"SELECT source, native_id, list(aspect ORDER BY aspect) FROM mention_aspects WHERE {picked} GROUP BY ALL",
            keys,
        )
    }
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
