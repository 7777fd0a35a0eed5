"""Read queries for the review-summary report and the complete exports (reports/ builds on them).

Filters are storage.queries.MentionFilter (UTC bounds, end exclusive). Counts read
`trusted_mentions`, the population the dashboard and the spike detector see; what
the trust signals left out is counted separately (`exclusions`), so the report can
say what it left out and why. Times out are naive UTC, except the export streams,
which give local times in the zone asked for (a spreadsheet has no zones).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import duckdb
import pyarrow as pa

from storage.db import Store
from storage.incidents import INCIDENT_FIELDS, Incident, IncidentResponse, _incident
from storage.queries import MENTIONS, MentionFilter, counted_sql, filter_where

Segment = Literal["product", "source", "aspect", "product_aspect"]
# counted_sql's count of each label (pos, neu and neg are the only labels; an unknown one counts nothing).
LABEL_COUNTS = {"pos": "positive", "neg": "negative", "neu": "scored - positive - negative"}
REACH_SQL = "coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0)"
# One row per distinct text: a copy-paste group is one voice, however many accounts posted it.
_VOICE = "coalesce(f.duplicate_group, m.source || chr(31) || m.native_id)"


@dataclass(frozen=True)
class SegmentCount:
    """Mentions of one segment (a product, a source, an aspect, or a product's aspect).
    For aspects, `scored` is the mentions naming the aspect and `negative` those whose
    verdict on it is negative; otherwise they are the mentions scored and labelled negative."""

    key: tuple[str | None, ...]
    mentions: int
    scored: int
    negative: int


@dataclass(frozen=True)
class Voice:
    """A representative mention: the one with the most reach among its copies."""

    source: str
    native_id: str
    published_at: datetime
    text: str
    reach: int
    copies: int  # mentions of the same text (1 = no copies)
    group: str  # the aspect, product or question topic it stands for


@dataclass(frozen=True)
class LeftOut:
    """Mentions a section left out of its examples: copies of a shown text, and those
    the trust signals excluded (template reviews and 刷单 copies)."""

    copies: int
    excluded: int


@dataclass(frozen=True)
class SourceRuns:
    source: str
    runs: int
    failed: int
    items: int
    last_error_kind: str | None
    mentions: int  # stored mentions published in the period


@dataclass(frozen=True)
class Exclusions:
    default_reviews: int  # platform placeholders (系统默认好评)
    copies: int  # template copies posted by several accounts (刷单, 好评返现)


def _segment_sql(by: Segment, where: str) -> str:
    if by in ("product", "source"):
        return (
            f"SELECT m.{by}, count(*), count(s.score), count(*) FILTER (WHERE s.label = 'neg')"
            f" FROM {MENTIONS} m LEFT JOIN sentiment s USING (source, native_id) WHERE {where} GROUP BY 1"
        )
    keys = "a.aspect" if by == "aspect" else "m.product, a.aspect"
    return (
        f"SELECT {keys}, count(*), count(*), count(*) FILTER (WHERE a.polarity = 'neg')"
        f" FROM mention_aspects a JOIN {MENTIONS} m USING (source, native_id) WHERE {where} GROUP BY ALL"
    )


def segment_counts(store: Store, f: MentionFilter, by: Segment) -> list[SegmentCount]:
    where, params = filter_where(f)
    width = 2 if by == "product_aspect" else 1
    return [
        SegmentCount(tuple(row[:width]), int(row[width]), int(row[width + 1]), int(row[width + 2]))
        for row in store.query(_segment_sql(by, where), params)
    ]


def brand_volumes(store: Store, f: MentionFilter) -> dict[str, int]:
    """Mentions of every brand in f's period and sources (its brands and products ignored):
    what share of voice is measured against."""
    where, params = filter_where(MentionFilter(f.start, f.end, sources=f.sources))
    rows = store.query(
        f"SELECT m.brand, count(*) FROM {MENTIONS} m WHERE {where} AND m.brand IS NOT NULL GROUP BY 1 ORDER BY 1",
        params,
    )
    return {str(brand): int(n) for brand, n in rows}


def period_incidents(store: Store, start: datetime, end: datetime, brands: Sequence[str] = ()) -> list[Incident]:
    """Incidents (any status) whose window overlaps [start, end), of the brands if any are given;
    source outages are included whatever the brands (they concern every brand's data)."""
    params: list[Any] = [end, start]
    brand_sql = "TRUE"
    if brands:
        brand_sql = "(list_contains(?::VARCHAR[], brand) OR kind = 'source_down')"
        params.append(list(brands))
    rows = store.query(
        f"SELECT {', '.join(INCIDENT_FIELDS)} FROM incidents WHERE window_start < ? AND window_end >= ?"
        f" AND {brand_sql} ORDER BY window_start, id",
        params,
    )
    return [_incident(row) for row in rows]


def incident_responses(store: Store, incident_ids: Sequence[str]) -> list[IncidentResponse]:
    """The response log of these incidents, oldest first."""
    if not incident_ids:
        return []
    rows = store.query(
        "SELECT incident_id, acted_at, actor, action, note FROM incident_responses"
        " WHERE list_contains(?::VARCHAR[], incident_id) ORDER BY acted_at, incident_id",
        [list(incident_ids)],
    )
    return [IncidentResponse(*row) for row in rows]


def _negative_voices_sql(where: str, by: Literal["aspect", "product"]) -> str:
    """Negative mentions per aspect (verdict on the aspect) or per product (mention label),
    one row per distinct text, most reach first."""
    if by == "aspect":
        source = (
            f"FROM mention_aspects a JOIN {MENTIONS} m USING (source, native_id)"
            f" LEFT JOIN mention_flags f USING (source, native_id) WHERE a.polarity = 'neg' AND {where}"
        )
        group = "a.aspect"
    else:
        source = (
            f"FROM {MENTIONS} m JOIN sentiment s USING (source, native_id)"
            f" LEFT JOIN mention_flags f USING (source, native_id) WHERE s.label = 'neg' AND {where}"
        )
        group = "coalesce(m.product, '')"
    return f"""
        WITH neg AS (
            SELECT {group} AS grp, m.source, m.native_id, m.published_at, m.text, {REACH_SQL} AS reach,
                   {_VOICE} AS voice
            {source}
        ), voices AS (
            SELECT *, count(*) OVER (PARTITION BY grp, voice) AS copies,
                   row_number() OVER (PARTITION BY grp, voice ORDER BY reach DESC, published_at, source, native_id)
                     AS in_voice
            FROM neg
        ), ranked AS (
            SELECT *, row_number() OVER (PARTITION BY grp ORDER BY reach DESC, published_at DESC, source, native_id)
                     AS rank
            FROM voices WHERE in_voice = 1
        )
        SELECT source, native_id, published_at, text, reach, copies, grp FROM ranked
        WHERE list_contains(?::VARCHAR[], grp) AND rank <= ? ORDER BY grp, rank
    """


def negative_voices(
    store: Store, f: MentionFilter, by: Literal["aspect", "product"], groups: Sequence[str], per_group: int
) -> list[Voice]:
    """Up to `per_group` representative negative mentions for each aspect or product in `groups`."""
    if not groups:
        return []
    where, params = filter_where(f)
    rows = store.query(_negative_voices_sql(where, by), [*params, list(groups), per_group])
    return [Voice(s, n, at, text, int(reach), int(copies), str(grp)) for s, n, at, text, reach, copies, grp in rows]


def aspect_left_out(store: Store, f: MentionFilter) -> dict[str, LeftOut]:
    """Per aspect, among its negative mentions: the copies beyond the first of each text,
    and those the trust signals excluded (which `trusted_mentions` leaves out)."""
    where, params = filter_where(f)
    rows = store.query(
        "SELECT a.aspect,"
        "  count(*) FILTER (WHERE NOT coalesce(f.excluded, FALSE))"
        f"   - count(DISTINCT {_VOICE}) FILTER (WHERE NOT coalesce(f.excluded, FALSE)),"
        "  count(*) FILTER (WHERE coalesce(f.excluded, FALSE))"
        " FROM mention_aspects a JOIN mentions m USING (source, native_id)"
        " LEFT JOIN mention_flags f USING (source, native_id)"
        f" WHERE a.polarity = 'neg' AND {where} GROUP BY 1",
        params,
    )
    return {str(aspect): LeftOut(int(copies), int(excluded)) for aspect, copies, excluded in rows}


@dataclass(frozen=True)
class Candidate:
    """A mention whose text may ask something (the caller decides), with its aspects."""

    source: str
    native_id: str
    published_at: datetime
    text: str
    reach: int
    aspects: tuple[str, ...]
    voice: str


def question_candidates(store: Store, f: MentionFilter, pattern: str) -> list[Candidate]:
    """Trusted mentions whose text matches `pattern` (RE2, a coarse filter), most reach first."""
    where, params = filter_where(f)
    rows = store.query(
        f"SELECT m.source, m.native_id, m.published_at, m.text, {REACH_SQL},"
        " coalesce((SELECT list(a.aspect ORDER BY a.aspect) FROM mention_aspects a"
        "   WHERE a.source = m.source AND a.native_id = m.native_id), []), "
        f" {_VOICE}"
        f" FROM {MENTIONS} m LEFT JOIN mention_flags f USING (source, native_id)"
        f" WHERE {where} AND regexp_matches(m.text, ?)"
        f" ORDER BY {REACH_SQL} DESC, m.published_at DESC, m.source, m.native_id",
        [*params, pattern],
    )
    return [
        Candidate(s, n, at, text, int(reach), tuple(aspects), voice) for s, n, at, text, reach, aspects, voice in rows
    ]


def source_runs(store: Store, f: MentionFilter) -> list[SourceRuns]:
    """Per source with mentions or collect runs in the period: runs, failed runs, items
    fetched, the last error's kind, and the mentions published in the period."""
    where, params = filter_where(MentionFilter(f.start, f.end, sources=f.sources))
    source_filter = "list_contains(?::VARCHAR[], source)" if f.sources else "TRUE"
    run_params: list[Any] = [f.start, f.end, *([list(f.sources)] if f.sources else [])]
    rows = store.query(
        f"""
        WITH runs AS (
            SELECT source, count(*) AS runs, count(*) FILTER (WHERE status <> 'ok') AS failed,
                   sum(inserted + updated + unchanged) AS items,
                   arg_max(error_kind, started_at) FILTER (WHERE status <> 'ok') AS last_error_kind
            FROM collect_runs WHERE started_at >= ? AND started_at < ? AND {source_filter} GROUP BY 1
        ), stored AS (
            SELECT m.source, count(*) AS mentions FROM mentions m WHERE {where} GROUP BY 1
        )
        SELECT source, coalesce(runs, 0), coalesce(failed, 0), coalesce(items, 0), last_error_kind,
               coalesce(mentions, 0)
        FROM runs FULL JOIN stored USING (source) ORDER BY source
        """,
        [*run_params, *params],
    )
    return [SourceRuns(str(s), int(r), int(fl), int(i), k, int(n)) for s, r, fl, i, k, n in rows]


def exclusions(store: Store, f: MentionFilter) -> Exclusions:
    """Mentions in the filter that the trust signals left out, by reason."""
    where, params = filter_where(f)
    default_reviews, copies = store.query(
        "SELECT count(*) FILTER (WHERE f.default_review), count(*) FILTER (WHERE NOT f.default_review)"
        f" FROM mentions m JOIN mention_flags f USING (source, native_id) WHERE f.excluded AND {where}",
        params,
    )[0]
    return Exclusions(int(default_reviews or 0), int(copies or 0))


def model_versions(store: Store, f: MentionFilter) -> list[tuple[str, str, int]]:
    """(model, version, mentions scored by it) for the mentions in the filter, most used first."""
    where, params = filter_where(f)
    rows = store.query(
        f"SELECT s.model, s.model_version, count(*) FROM {MENTIONS} m JOIN sentiment s USING (source, native_id)"
        f" WHERE {where} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
        params,
    )
    return [(str(model), str(version), int(n)) for model, version, n in rows]


# ------------------------------------------------------------------ exports

# The engine's memory while exporting (its sort and joins spill to disk beyond it): 160 MB held a
# million mentions in 410 MB for the whole process (100 MB ran out); the larger caps are for the rare
# export that needs more.
EXPORT_MEMORY = ("160MB", "640MB", "2GB")


def _mentions_sql(where: str, label: str | None) -> str:
    label_sql = " AND s.label = ?" if label else ""
    return f"""
        SELECT timezone(?, m.published_at AT TIME ZONE 'UTC') AS published_at, m.source, m.native_id, m.brand,
               m.product, m.text, m.url, s.score, s.label, m.rating, m.likes, m.reposts, m.replies,
               a.aspects, t.urgency,
               CASE WHEN f.default_review THEN 'default_review' WHEN f.excluded THEN 'duplicate' END AS excluded
        FROM mentions m
        LEFT JOIN sentiment s USING (source, native_id)
        LEFT JOIN triage t USING (source, native_id)
        LEFT JOIN mention_flags f USING (source, native_id)
        LEFT JOIN (
            SELECT source, native_id, string_agg(aspect || ':' || polarity, ' ' ORDER BY aspect) AS aspects
            FROM mention_aspects GROUP BY 1, 2
        ) a USING (source, native_id)
        WHERE {where}{label_sql}
        ORDER BY m.published_at, m.source, m.native_id
    """


def count_export_mentions(store: Store, f: MentionFilter, label: str | None = None) -> int:
    """How many rows `export_mentions` yields for the same arguments (from the rollups but at the
    window's edges: a count of the window's rows joined to every score took a third of a second at 1M)."""
    counted, params = counted_sql(f, "0", [], trusted=False)
    column = LABEL_COUNTS.get(label, "0") if label else "mentions"
    rows = store.query(f"SELECT {column} FROM ({counted})", params)
    return int(rows[0][0]) if rows else 0


def export_mentions(
    store: Store, f: MentionFilter, tz: str, label: str | None = None, batch_rows: int = 20_000
) -> Iterator[pa.RecordBatch]:
    """Every mention in the filter (excluded ones too, with the reason), oldest first, as Arrow
    batches. The engine's memory is capped for the export, so its sort and joins spill to its
    temporary directory (beside the database file) and memory stays flat however many rows there
    are; left as it is, the engine would hold the whole sorted result (0.8 GB for a million mentions)."""
    where, params = filter_where(f)
    sql, values = _mentions_sql(where, label), [tz, *params, *([label] if label else [])]
    previous = store.query("SELECT current_setting('memory_limit'), current_setting('threads')")[0]
    # One thread: each thread keeps its own sort and join buffers, and the export is bound by writing anyway.
    store.con.execute("SET threads = 1")
    try:
        yield from _sorted_batches(store, sql, values, batch_rows)
    finally:
        store.con.execute(f"SET memory_limit = '{previous[0]}'")
        store.con.execute(f"SET threads = {int(previous[1])}")


def _sorted_batches(store: Store, sql: str, values: list[Any], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The engine sorts everything before it hands over the first row, so running out of memory can
    only happen before anything was written: then the query runs again with the next, larger cap."""
    for cap in EXPORT_MEMORY:
        store.con.execute(f"SET memory_limit = '{cap}'")
        try:
            reader = store.con.sql(sql, params=values).to_arrow_reader(batch_rows)
        except duckdb.OutOfMemoryException:
            if cap == EXPORT_MEMORY[-1]:
                raise
            continue
        yield from reader
        return


def queued(store: Store, outbox_ids: Sequence[str]) -> set[str]:
    """Which of these outbox rows exist already (any status): a scheduled report is queued once."""
    if not outbox_ids:
        return set()
    rows = store.query("SELECT id FROM alert_outbox WHERE list_contains(?::VARCHAR[], id)", [list(outbox_ids)])
    return {str(r[0]) for r in rows}
