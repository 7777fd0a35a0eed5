"""The triage page's reads: the tier counts, the queue and the aspect summary of a window.

Window first (issue 18): the queue joined triage x mentions x sentiment x labels x flags (and an
aspects subquery per row) whole before the window's filter applied, which took the dashboard
server to 3.2 GB at 10M mentions. Now the window's keys come first, from `mentions` by
published_at (and brand, product, source): their tiers are read for those keys only (a semi join
that hashes the window's keys, not the table), the top `limit` by urgency, reach and time are
picked from them, and only those rows are read whole, their scores, triage and aspects looked up
by key (storage/bykey.py). The tier counts and the aspect summary are read from the rollups kept
at write time (storage/rollups.py), the rows of the window's partial 5-minute buckets from the
tables, as the overview's counts are.

A filter is brands, products, sources and published_at from `start` (inclusive) to `end`
(exclusive), naive UTC as stored; an empty tuple or None means "all".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pandas as pd

from storage import bykey, rollups
from storage.db import Store
from storage.queries import MENTIONS, MentionFilter, filter_clauses, filter_where

_WINDOW = "koubei_triage_window"  # the window's keys, times and reach
_TOP = "koubei_triage_top"  # the `limit` shown, with their urgency
_SCORES = "koubei_triage_scores"
_TRIAGE = "koubei_triage_rows"
_ASPECTS = "koubei_triage_aspects"
_FLAGS = "koubei_triage_flags"
_ROWS = "koubei_triage_mentions"
_TEMP = (_WINDOW, _TOP, _SCORES, _TRIAGE, _ASPECTS, _FLAGS, _ROWS)
# The trust checks' exclusions as NOT IN: the same rows as trusted_mentions' NOT EXISTS (keys are never
# NULL), 30 ms for a 14-day window at 1M mentions against 120-170 ms through the view.
TRUSTED = " AND (m.source, m.native_id) NOT IN (SELECT source, native_id FROM mention_flags WHERE excluded)"
REACH = "coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0)"
ORDER = "urgency DESC, reach DESC, published_at DESC, source, native_id"


def _filter(
    brands: Sequence[str] | str,
    products: Sequence[str],
    sources: Sequence[str],
    start: datetime | None,
    end: datetime | None,
) -> MentionFilter:
    """The keyword filter as the overview's MentionFilter (no bound: the widest timestamps)."""
    return MentionFilter(
        start if start is not None else datetime.min,
        end if end is not None else datetime.max,
        (brands,) if isinstance(brands, str) else tuple(brands),
        tuple(products),
        tuple(sources),
    )


def _rolled_up(store: Store, f: MentionFilter, rows: str, rollup: str, key: str) -> list[tuple[Any, ...]]:
    """Counts per `key` (columns of both parts) of the filter's mentions: whole 5-minute buckets from
    `rollup` (a query over the rollup r, with {where} for its bucket and filter conditions), the
    partial ones at the window's edges from `rows` (a query over mentions m, with {where} for the
    edges' and the filter's conditions), each counting as `n`. Combinations that sum to nothing are left out (the lake's rollups are a log
    of signed counts)."""
    cut = rollups.split(f.start, f.end)
    filters, filter_params = filter_clauses(f, "m")
    parts, values = [], []
    if cut.edges:
        edges, edge_params = cut.edge_sql("m.published_at")
        parts.append(rows.format(where=" AND ".join([edges, *filters])))
        values += [*edge_params, *filter_params]
    if cut.span is not None:
        parts.append(rollup.format(where=" AND ".join(["m.bucket >= ?", "m.bucket < ?", *filters])))
        values += [*cut.span, *filter_params]
    if not parts:
        return []
    return store.query(
        f"SELECT {key}, sum(n)::BIGINT FROM ({' UNION ALL '.join(parts)}) GROUP BY ALL HAVING sum(n) > 0 ORDER BY ALL",
        values,
    )


def triage_counts(
    store: Store,
    brands: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    sources: Sequence[str] = (),
    include_excluded: bool = False,
    products: Sequence[str] = (),
) -> dict[int, int]:
    """How many triaged mentions each tier holds (same filters as triage_queue)."""
    f = _filter(brands, products, sources, start, end)
    mentions = "mentions" if include_excluded else MENTIONS
    kept = "" if include_excluded else " AND NOT m.excluded"
    rows = _rolled_up(
        store,
        f,
        # The edges' tiers, read for their keys only: a join would hash the whole triage table.
        "SELECT urgency AS tier, count(*) AS n FROM triage WHERE (source, native_id) IN"
        f" (SELECT source, native_id FROM {mentions} m WHERE {{where}}) GROUP BY ALL",
        f"SELECT m.tier, sum(m.mentions) AS n FROM rollup_mentions m WHERE m.tier > 0{kept} AND {{where}} GROUP BY ALL",
        "tier",
    )
    return {int(tier): int(n) for tier, n in rows}


def aspect_summary(
    store: Store,
    brands: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    products: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> Any:
    """Mentions per aspect and its polarity (trusted mentions only), as a DataFrame."""
    f = _filter(brands, products, sources, start, end)
    rows = _rolled_up(
        store,
        f,
        "SELECT aspect, polarity, count(*) AS n FROM mention_aspects WHERE (source, native_id) IN"
        f" (SELECT source, native_id FROM {MENTIONS} m WHERE {{where}}) GROUP BY ALL",
        "SELECT m.aspect, m.polarity, sum(m.mentions) AS n FROM rollup_aspects m WHERE NOT m.excluded AND {where} GROUP BY ALL",
        "aspect, polarity",
    )
    return pd.DataFrame(rows, columns=["aspect", "polarity", "mentions"]).astype({"mentions": "int64"})


def triage_queue(
    store: Store,
    brands: Sequence[str] = (),
    min_urgency: int = 1,
    limit: int = 200,
    include_excluded: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    sources: Sequence[str] = (),
    products: Sequence[str] = (),
) -> Any:
    """Questions and complaints with their triage, most urgent first, then the widest reach inside
    a tier, then newest, at most `limit`, as a DataFrame."""
    f = _filter(brands, products, sources, start, end)
    where, params = filter_where(f)
    con = store.con
    with _temp_tables(store):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_WINDOW} AS SELECT m.source, m.native_id, m.published_at, {REACH} AS reach"
            f" FROM mentions m WHERE {where}{'' if include_excluded else TRUSTED}",
            params,
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_TOP} AS SELECT w.*, t.urgency FROM {_WINDOW} w"
            f" JOIN (SELECT source, native_id, urgency FROM {rollups.keyed('triage', _WINDOW)} WHERE urgency >= ?) t"
            f" ON t.source = w.source AND t.native_id = w.native_id ORDER BY {ORDER} LIMIT ?",
            [min_urgency, int(limit)],
        )
        keys = [(str(s), str(n)) for s, n in store.query(f"SELECT source, native_id FROM {_TOP}")]
        bykey.into_temp(store, _SCORES, "source, native_id, score, label", "sentiment", keys)
        bykey.into_temp(store, _TRIAGE, "source, native_id, reading, motive, reason, reply", "triage", keys)
        bykey.into_temp(store, _ASPECTS, "source, native_id, aspect, polarity", "mention_aspects", keys)
        # mention_flags has no index on native_id: one semi join on the few keys.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_FLAGS} AS SELECT source, native_id, rating_conflict, duplicate_count"
            f" FROM {rollups.keyed('mention_flags', _TOP)}"
        )
        # The whole rows within the shown ones' time span: zone maps skip the rest of the table.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_ROWS} AS SELECT source, native_id, brand, product, url, text"
            f" FROM {rollups.keyed('mentions', _TOP)}"
            f" WHERE published_at BETWEEN (SELECT min(published_at) FROM {_TOP}) AND (SELECT max(published_at) FROM {_TOP})"
        )
        return store.frame(
            "SELECT x.source, x.native_id, m.brand, m.product, x.published_at, m.url, m.text, x.reach,"
            " s.score, s.label, t.reading, x.urgency, t.motive, t.reason, t.reply, a.aspects,"
            " l.label AS corrected_label, tl.urgency AS corrected_tier, f.rating_conflict, f.duplicate_count"
            f" FROM {_TOP} x JOIN {_ROWS} m USING (source, native_id)"
            f" LEFT JOIN {_SCORES} s USING (source, native_id)"
            f" LEFT JOIN {_TRIAGE} t USING (source, native_id)"
            " LEFT JOIN (SELECT source, native_id, string_agg(aspect || ':' || polarity, ' ' ORDER BY aspect) AS aspects"
            f"   FROM {_ASPECTS} GROUP BY ALL) a USING (source, native_id)"
            " LEFT JOIN sentiment_labels l USING (source, native_id)"
            " LEFT JOIN triage_labels tl USING (source, native_id)"
            f" LEFT JOIN {_FLAGS} f USING (source, native_id)"
            f" ORDER BY x.{ORDER.replace(', ', ', x.')}"
        )


@contextmanager
def _temp_tables(store: Store) -> Iterator[None]:
    """The queue's temp tables, dropped after it (a dashboard read's connection is short, a test's not)."""
    try:
        yield
    finally:
        for table in _TEMP:
            store.con.execute(f"DROP TABLE IF EXISTS {table}")
