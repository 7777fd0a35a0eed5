"""Read queries for the topics page (dashboard/pages/topics.py): sentiment per aspect over time,
the texts rising themes are found in, and the mentions of one theme.

Like the overview they read `trusted_mentions`: copy-paste campaigns neither make a theme rise
nor move an aspect's sentiment.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from storage.db import Store
from storage.queries import MENTIONS, MentionFilter, filter_where


def aspect_series(store: Store, f: MentionFilter, bucket: timedelta, tz: str = "UTC") -> pd.DataFrame:
    """One row per local time bucket (in `tz`) and aspect mentioned in it: bucket, aspect, mentions,
    positive, negative, net_sentiment ((positive - negative) / mentions, by the aspect's own polarity)."""
    where, params = filter_where(f)
    step = f"{int(bucket.total_seconds())} seconds"
    return store.frame(
        f"""
        SELECT time_bucket(?::INTERVAL, timezone(?, m.published_at AT TIME ZONE 'UTC')) AS bucket, a.aspect,
               count(*) AS mentions, count(*) FILTER (WHERE a.polarity = 'pos') AS positive,
               count(*) FILTER (WHERE a.polarity = 'neg') AS negative,
               (count(*) FILTER (WHERE a.polarity = 'pos') - count(*) FILTER (WHERE a.polarity = 'neg'))
                   / count(*) AS net_sentiment
        FROM {MENTIONS} m JOIN mention_aspects a USING (source, native_id)
        WHERE {where}
        GROUP BY ALL ORDER BY bucket, aspect
        """,
        [step, tz, *params],
    )


def period_texts(store: Store, f: MentionFilter, limit: int) -> list[str]:
    """At most `limit` texts of the period: a fixed sample (by a hash of the key) when there are more,
    so a theme's share is measured on the same texts every time."""
    where, params = filter_where(f)
    rows = store.query(
        f"SELECT m.text FROM {MENTIONS} m WHERE {where} ORDER BY hash(m.source, m.native_id) LIMIT ?",
        [*params, limit],
    )
    return [row[0] for row in rows]


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
