"""Read queries for comparing brands with their competitors: share of voice, net sentiment and
negative share, over time and per channel (dashboard/compare.py draws them).

The filter's `brands` are the brands compared; share of voice is a brand's part of their
mentions together (in a bucket, or on a channel). Like the overview, counts read
`trusted_mentions`, so a paid-posting wave does not buy a brand its share. Net sentiment is
(positive - negative) / scored, from -1 to 1; both shares are None where nothing was scored.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from storage.db import Store
from storage.incidents import Incident
from storage.queries import LOCAL_BUCKET, MentionFilter, counted_sql, filtered_incidents, rollup_usable

SHARES = """CASE WHEN scored > 0 THEN (positive - negative) / scored END AS net_sentiment,
    CASE WHEN scored > 0 THEN negative / scored END AS negative_share"""
INTEGERS = {"mentions": "int64", "scored": "int64", "positive": "int64", "negative": "int64"}


def brand_series(store: Store, f: MentionFilter, bucket: timedelta, tz: str = "UTC") -> pd.DataFrame:
    """One row per local time bucket (in `tz`) and brand of `f.brands`, gaps filled with zero:
    bucket, brand, mentions, scored, positive, negative, share_of_voice, net_sentiment, negative_share."""
    seconds = int(bucket.total_seconds())
    step = f"{seconds} seconds"
    counted, params = counted_sql(f, LOCAL_BUCKET, [step, tz], rollup_usable(seconds, tz, f), keys=("brand",))
    sql = f"""
        WITH counted AS ({counted}), grid AS (
            SELECT unnest(generate_series(
                time_bucket(?::INTERVAL, timezone(?, ?::TIMESTAMP AT TIME ZONE 'UTC')),
                timezone(?, ?::TIMESTAMP AT TIME ZONE 'UTC') - INTERVAL 1 microsecond,
                ?::INTERVAL)) AS bucket
        ), filled AS (
            SELECT grid.bucket, b.brand, coalesce(mentions, 0) AS mentions, coalesce(scored, 0) AS scored,
                   coalesce(positive, 0) AS positive, coalesce(negative, 0) AS negative
            FROM grid CROSS JOIN (SELECT unnest(?::VARCHAR[]) AS brand) b LEFT JOIN counted USING (bucket, brand)
        )
        SELECT *, mentions / nullif(sum(mentions) OVER (PARTITION BY bucket), 0) AS share_of_voice, {SHARES}
        FROM filled ORDER BY bucket, brand
    """
    frame = store.frame(sql, [*params, step, tz, f.start, tz, f.end, step, list(f.brands)])
    return frame.astype(INTEGERS)


def channel_shares(store: Store, f: MentionFilter) -> pd.DataFrame:
    """One row per source (channel) and brand with mentions there: source, brand, mentions, scored,
    positive, negative, share_of_voice (of the channel's mentions), net_sentiment, negative_share."""
    counted, params = counted_sql(f, "0", [], keys=("source", "brand"))
    sql = f"""
        WITH counted AS (SELECT source, brand, mentions, scored, positive, negative FROM ({counted}) WHERE mentions > 0)
        SELECT *, mentions / sum(mentions) OVER (PARTITION BY source) AS share_of_voice, {SHARES}
        FROM counted ORDER BY source, mentions DESC, brand
    """
    return store.frame(sql, params).astype(INTEGERS)


def brand_incidents(store: Store, f: MentionFilter) -> list[Incident]:
    """The incidents of the compared brands in the period (a source outage is no brand's)."""
    return [i for i in filtered_incidents(store, f) if i.brand in f.brands and i.kind != "source_down"]
