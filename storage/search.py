"""Finding mentions by watch query (querylang), for `koubei search` and the mentions explorer page:
the query compiled to a SQL predicate (storage/predicates.py), newest or widest reaching first,
paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from querylang import Query
from storage.bykey import BY_KEY, key_params, slices
from storage.db import Store
from storage.predicates import predicate
from storage.textindex import Sql, exact, index_complete, required_sources, timed_candidates

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
    product: str | None
    label: str | None  # pos | neu | neg; None before scoring
    tier: int | None  # 1-5 for triaged mentions
    aspects: tuple[str, ...]  # aspect:polarity, 质量:neg
    corrected_label: str | None = None  # a person's, from the triage and mentions pages
    corrected_tier: int | None = None

    @property
    def id(self) -> str:
        return f"{self.source}:{self.native_id}"


@dataclass(frozen=True)
class Window:
    """Published at or after `since` and before `until` (naive UTC; None: open), of these brands,
    products and sources, in any of these topics (empty: any)."""

    since: datetime | None = None
    until: datetime | None = None
    brands: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


def _where(query: Query | None, window: Window) -> tuple[str, list[object]]:
    conditions: list[str] = []
    params: list[object] = []
    if query is not None:
        matched = predicate(query, alias="m")
        conditions.append(matched.sql)
        params += matched.params
    for bound, operator in ((window.since, ">="), (window.until, "<")):
        if bound is not None:
            conditions.append(f"m.published_at {operator} ?")
            params.append(bound)
    for column, values in (("brand", window.brands), ("product", window.products), ("source", window.sources)):
        if values:
            conditions.append(f"m.{column} IN ({', '.join('?' for _ in values)})")
            params += values
    if window.topics:
        conditions.append(
            "EXISTS (SELECT 1 FROM mention_topics mt WHERE mt.source = m.source AND mt.native_id = m.native_id"
            f" AND mt.topic IN ({', '.join('?' for _ in window.topics)}))"
        )
        params += window.topics
    return " AND ".join(conditions) or "true", params


# A search whose candidates are not exactly its matches (NOT, phrases, NEAR, Latin words) by time:
# the newest candidates are read a time range at a time, each range holding about as many more
# candidates as the matches found so far say a page needs, and only those candidates' texts are
# matched (NEAR's distance, a phrase). A page by reach reads all the candidates when they are at
# most READ_ALL, else walks them widest first (_widest_among_candidates); a count reads them all
# when they are at most READ_ALL, else scans.
READ_ALL = 500
FIRST_RANGE = 4  # candidates read in the first range, per mention the page wants
MAX_RANGE = 200_000  # candidates a range reads at most: about 0.2 s of texts at 10,000,000 mentions


def search(
    store: Store,
    query: Query | None,
    window: Window = Window(),
    limit: int = 50,
    offset: int = 0,
    order: Order = "time",
) -> list[Found]:
    """A page of the mentions the query (None: every mention) matches."""
    where, params = _where(query, window)
    if _index_answers(query, window):
        found = _exact_page(store, query, window, where, params, limit, offset, order)
        if found is not None:
            return found
    found = None
    if order == "time":
        found = _newest_among_candidates(store, query, window, where, params, limit, offset)
    else:
        times = _candidate_times(store, query, window)
        if times is not None and len(times) <= READ_ALL:
            found = _page(store, where, params, limit, offset, order, sorted(set(times))) if times else []
        elif times is not None:
            found = _widest_among_candidates(store, query, window, where, params, limit, offset)
    return _page(store, where, params, limit, offset, order) if found is None else found


def _newest_among_candidates(
    store: Store, query: Query | None, window: Window, where: str, params: list[object], limit: int, offset: int
) -> list[Found] | None:
    """The page by time from the candidates' texts alone, newest range of times first; None without
    the index. Every match is a candidate: once the ranges read hold a page of matches, no older
    mention can be on it."""
    docs = _candidates(store, query, window)
    if docs is None:
        return None
    wanted = limit + offset
    found: list[Key] = []
    newer_than: datetime | None = None  # the oldest time read so far (exclusive upper bound)
    listed = wanted * FIRST_RANGE
    while len(found) < wanted:
        times = _newest_times(store, docs, newer_than, listed)
        if not times:
            break  # no candidate left
        found += _matches_at(store, times, where, params, wanted - len(found))
        newer_than = times[-1]
        # as many more candidates as the matches so far say a page needs (every candidate, none found)
        listed = min(MAX_RANGE, listed * 4 if not found else int(listed * (wanted / len(found))) + 1)
    found.sort(key=lambda k: (k[0], k[1]))
    found.sort(key=lambda k: k[2], reverse=True)
    return _read(store, where, params, found[offset:wanted])


# A page by reach of a query that is not exact reads its candidates widest first, at most this
# many; past it (matches rare among the candidates, or a page far down) it scans instead.
BY_KEY_BUDGET = 2_000


def _widest_among_candidates(
    store: Store, query: Query | None, window: Window, where: str, params: list[object], limit: int, offset: int
) -> list[Found] | None:
    """The page by reach from the candidates alone: their search_docs rows in the page's order
    (reach, time, key; migration 193), a slice at a time, each slice's mentions read at their
    times and matched, until the slices hold a page of matches. Every match is a candidate and the slices
    follow the page's order, so no later candidate can be on the page. None without the index, or
    when BY_KEY_BUDGET candidates read hold no page of matches (the scan answers)."""
    docs = _candidates(store, query, window)
    if docs is None:
        return None
    listed, listed_params = _candidate_docs(docs, window)
    wanted = limit + offset
    found: list[Key] = []
    read = 0
    size = wanted * FIRST_RANGE
    while len(found) < wanted:
        if read + size > BY_KEY_BUDGET:
            return None
        keys = store.query(
            f"SELECT m.source, m.native_id, m.published_at FROM ({listed}) m ORDER BY {_ORDER['reach']} LIMIT ? OFFSET ?",
            [*listed_params, size, read],
        )
        found += _matching(store, where, params, [(str(s), str(n), at) for s, n, at in keys])
        if len(keys) < size:
            break  # no candidate left
        read += size
        # as many more candidates as the matches so far say a page needs (every candidate, none found)
        size = size * 4 if not found else int(size * (wanted - len(found)) / len(found)) + 1
    return _read(store, where, params, found[offset:wanted])


def _matching(store: Store, where: str, params: list[object], keys: list[Key]) -> list[Key]:
    """The keys among `keys` whose mentions `where` holds for, in their order: only the mentions at
    their times are read (the index on published_at; by key would scan: mentions has no index
    DuckDB uses for its key) and matched."""
    times = sorted({at for _, _, at in keys})
    rows = store.query(
        f"WITH scope AS {_at(times)} SELECT m.source, m.native_id FROM scope m"
        f" WHERE {where} AND list_contains(?, {{'source': m.source, 'native_id': m.native_id}})",
        [*times, *params, [{"source": s, "native_id": n} for s, n, _ in keys]],
    )
    matched = {(str(s), str(n)) for s, n in rows}
    return [k for k in keys if (k[0], k[1]) in matched]


def _newest_times(store: Store, docs: Sql, newer_than: datetime | None, listed: int) -> list[datetime]:
    """The distinct times of the `listed` newest candidates older than `newer_than` (all of those at
    the oldest of them), newest first, from the postings alone."""
    sql, params = docs
    before, bound = ("AND c.published_at < ?", [newer_than]) if newer_than is not None else ("", [])
    rows = store.query(
        f"WITH c AS MATERIALIZED (SELECT c.published_at FROM ({sql}) c WHERE true {before}),"
        " edge AS (SELECT min(published_at) AS oldest FROM (SELECT published_at FROM c ORDER BY published_at DESC LIMIT ?))"
        " SELECT DISTINCT published_at FROM c WHERE published_at >= (SELECT oldest FROM edge) ORDER BY 1 DESC",
        [*params, *bound, listed],
    )
    return [row[0] for row in rows]


def _matches_at(store: Store, times: list[datetime], where: str, params: list[object], limit: int) -> list[Key]:
    """The keys of the newest matches among the mentions at these times (the candidates, and the
    rare other mention of the same second), read within their span (zone maps, the index on
    published_at): the predicate runs on those texts alone."""
    # MATERIALIZED: merged, DuckDB pushes the text's condition into the scan of mentions, matching
    # every text of the span instead of the candidates' alone
    rows = store.query(
        "WITH c AS (SELECT unnest(?::TIMESTAMP[]) AS published_at),"
        f" scope AS MATERIALIZED (SELECT {_READ} FROM mentions m WHERE m.published_at BETWEEN ? AND ?"
        " AND m.published_at IN (SELECT published_at FROM c))"
        f" SELECT m.source, m.native_id, m.published_at FROM scope m WHERE {where} ORDER BY {_ORDER['time']} LIMIT ?",
        [times, times[-1], times[0], *params, limit],
    )
    return [(str(s), str(n), at) for s, n, at in rows]


Key = tuple[str, str, datetime]  # source, native_id, published_at


def _read(store: Store, where: str, params: list[object], keys: list[Key]) -> list[Found]:
    """The mentions `keys` names, in their order, read once with everything a page shows (among the
    mentions at their times, through the index on published_at)."""
    if not keys:
        return []
    # one list parameter: a condition per key took DuckDB longer to plan than to run
    found = _page(
        store,
        f"{where} AND list_contains(?, {{'source': m.source, 'native_id': m.native_id}})",
        [*params, [{"source": s, "native_id": n} for s, n, _ in keys]],
        len(keys),
        0,
        "time",
        sorted({k[2] for k in keys}),
    )
    by_key = {(f.source, f.native_id): f for f in found}
    return [by_key[(s, n)] for s, n, _ in keys if (s, n) in by_key]


def _candidates(store: Store, query: Query | None, window: Window) -> Sql | None:
    """A SELECT of the candidates' (doc, published_at), with the window's times and the sources of
    the query and the window pushed into the candidate step; None without the index. Only a
    source reads search_docs: the times are the postings' own."""
    narrowed = None if query is None else timed_candidates(query)
    if narrowed is None or query is None or not index_complete(store):
        return None
    sql, params = narrowed
    conditions = ["true"]
    params = list(params)
    for bound, operator in ((window.since, ">="), (window.until, "<")):
        if bound is not None:
            conditions.append(f"c.published_at {operator} ?")
            params.append(bound)
    sources = required_sources(query)
    if window.sources:
        sources = frozenset(window.sources) if sources is None else sources & frozenset(window.sources)
    if sources is not None:
        marks = ", ".join("?" for _ in sources) or "NULL"
        conditions.append(f"c.doc IN (SELECT doc FROM search_docs WHERE source IN ({marks}))")
        params += sorted(sources)
    return f"SELECT c.doc, c.published_at FROM ({sql}) c WHERE {' AND '.join(conditions)}", params


def _exact_page(
    store: Store,
    query: Query | None,
    window: Window,
    where: str,
    params: list[object],
    limit: int,
    offset: int,
    order: Order,
) -> list[Found] | None:
    """A page when the candidates are exactly the matches, its keys from the postings and
    search_docs alone (no text, nothing of mentions): by time, the newest candidates; with brands or
    products, or by reach, the top among the candidates' docs. Then only the page's own mentions
    are read."""
    docs = _candidates(store, query, window)
    if docs is None:
        return None
    sql, docs_params = docs
    if order == "time" and not (window.brands or window.products):
        # the newest from the postings (ties at the oldest time kept), then their keys: search_docs
        # is read only where those docs are
        keys = store.query(
            f"WITH c AS MATERIALIZED ({sql}), edge AS (SELECT min(published_at) AS oldest FROM"
            " (SELECT published_at FROM c ORDER BY published_at DESC LIMIT ?))"
            " SELECT d.source, d.native_id, d.published_at FROM search_docs d"
            " WHERE d.doc IN (SELECT doc FROM c WHERE published_at >= (SELECT oldest FROM edge))"
            " ORDER BY d.published_at DESC, d.source, d.native_id LIMIT ? OFFSET ?",
            [*docs_params, limit + offset, limit, offset],
        )
    else:
        listed, listed_params = _candidate_docs(docs, window)
        keys = store.query(
            f"SELECT m.source, m.native_id, m.published_at FROM ({listed}) m ORDER BY {_ORDER[order]} LIMIT ? OFFSET ?",
            [*listed_params, limit, offset],
        )
    return _read(store, where, params, [(str(s), str(n), at) for s, n, at in keys])


def _candidate_docs(docs: Sql, window: Window) -> Sql:
    """A SELECT of the candidates' (source, native_id, published_at, reach) of the window's brands
    and products, from search_docs alone (migration 193 keeps brand, product and reach there as
    mentions have them), joined to the candidates by `doc` and read within the window's times
    (zone maps); no text, nothing of mentions."""
    sql, params = docs
    conditions = [f"d.doc IN (SELECT doc FROM ({sql}))"]
    listed_params = list(params)
    for bound, operator in ((window.since, ">="), (window.until, "<")):
        if bound is not None:
            conditions.append(f"d.published_at {operator} ?")
            listed_params.append(bound)
    for column, values in (("brand", window.brands), ("product", window.products)):
        if values:
            conditions.append(f"d.{column} IN ({', '.join('?' for _ in values)})")
            listed_params += values
    return (
        f"SELECT d.source, d.native_id, d.published_at, d.reach FROM search_docs d WHERE {' AND '.join(conditions)}",
        listed_params,
    )


def _candidate_times(store: Store, query: Query | None, window: Window) -> list[datetime] | None:
    """The times of the newest READ_ALL + 1 candidates in the window, newest first (more than
    READ_ALL: too many to read all); None without the index."""
    docs = _candidates(store, query, window)
    if docs is None:
        return None
    sql, params = docs
    rows = store.query(f"SELECT published_at FROM ({sql}) ORDER BY published_at DESC LIMIT ?", [*params, READ_ALL + 1])
    return [row[0] for row in rows]


# search_docs.reach is the same sum (storage/textindex.py REACH): pages from either sort alike.
_REACH = "coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0)"
# What a page and its predicate read of a mention.
_READ = "source, native_id, published_at, text, url, likes, reposts, replies, brand, product, language"


def _at(times: list[datetime]) -> str:
    """The mentions at these times, read through the index on published_at (materialised apart: a
    condition on the text beside the times makes DuckDB scan every row instead)."""
    return f"MATERIALIZED (SELECT {_READ} FROM mentions WHERE published_at IN ({', '.join('?' for _ in times)}))"


def _page(
    store: Store,
    where: str,
    params: list[object],
    limit: int,
    offset: int,
    order: Order,
    times: list[datetime] | None = None,
) -> list[Found]:
    """A page of the mentions `where` holds for; with `times`, only among the mentions at those times."""
    rows = store.query(
        f"""
        WITH scope AS {f"(SELECT {_READ} FROM mentions)" if times is None else _at(times)}
        SELECT m.source, m.native_id, m.published_at, m.text, m.url, {_REACH} AS reach, m.brand, m.product
        FROM scope m WHERE {where}
        ORDER BY {_ORDER[order]} LIMIT ? OFFSET ?
        """,
        [*(times or ()), *params, limit, offset],
    )
    details = _details(store, [(str(row[0]), str(row[1])) for row in rows])
    return [_found(row, details.get((row[0], row[1]), _NO_DETAILS)) for row in rows]


# What a page shows beside each mention, looked up by key (storage/bykey.py: 10 ms a table for
# 50 mentions at 1,000,000, where a join on (source, native_id) scanned each table in 120 ms).
# MATERIALIZED keeps each lookup apart: merged into the joins, DuckDB plans them as scans again.
_DETAILS = f"""
WITH page AS (SELECT unnest($pairs) AS k),
s AS MATERIALIZED (SELECT source, native_id, label FROM sentiment WHERE {BY_KEY}),
t AS MATERIALIZED (SELECT source, native_id, urgency FROM triage WHERE {BY_KEY}),
a AS MATERIALIZED (
    SELECT source, native_id, list(aspect || ':' || polarity ORDER BY aspect) AS aspects
    FROM mention_aspects WHERE {BY_KEY} GROUP BY ALL
),
sl AS MATERIALIZED (SELECT source, native_id, label FROM sentiment_labels WHERE {BY_KEY}),
tl AS MATERIALIZED (SELECT source, native_id, urgency FROM triage_labels WHERE {BY_KEY})
SELECT k.source, k.native_id, s.label, t.urgency, a.aspects, sl.label, tl.urgency
FROM page
LEFT JOIN s ON s.source = k.source AND s.native_id = k.native_id
LEFT JOIN t ON t.source = k.source AND t.native_id = k.native_id
LEFT JOIN a ON a.source = k.source AND a.native_id = k.native_id
LEFT JOIN sl ON sl.source = k.source AND sl.native_id = k.native_id
LEFT JOIN tl ON tl.source = k.source AND tl.native_id = k.native_id
"""
Details = tuple[Any, ...]  # label, tier, aspects, corrected label, corrected tier
_NO_DETAILS: Details = (None, None, None, None, None)


def _details(store: Store, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Details]:
    """The sentiment, tier, aspects and corrections of the mentions `keys` names."""
    found = {}
    for part in slices(keys):
        for row in store.query(_DETAILS, key_params(part)):
            found[(row[0], row[1])] = tuple(row[2:])
    return found


def _found(row: tuple[Any, ...], details: Details) -> Found:
    source, native_id, at, text, url, reach, brand, product = row
    label, tier, aspects, corrected, corrected_tier = details
    return Found(
        str(source),
        str(native_id),
        at,
        str(text),
        url,
        int(reach),
        brand,
        product,
        label,
        tier,
        tuple(aspects or ()),
        corrected,
        corrected_tier,
    )


def count_found(store: Store, query: Query | None, window: Window = Window()) -> int:
    """How many mentions the query matches: among the candidates when the index lists them all,
    else by a scan."""
    where, params = _where(query, window)
    counted = _counted_by_index(store, query, window)
    if counted is not None:
        return counted
    times = _candidate_times(store, query, window)
    if times is not None and len(times) <= READ_ALL:
        if not times:
            return 0
        distinct = sorted(set(times))
        row = store.query(
            f"WITH scope AS {_at(distinct)} SELECT count(*) FROM scope m WHERE {where}", [*distinct, *params]
        )
    else:
        row = store.query(f"SELECT count(*) FROM mentions m WHERE {where}", params)
    return int(row[0][0]) if row else 0


def _index_answers(query: Query | None, window: Window) -> bool:
    """Whether search_docs' candidates are exactly the matches (storage/textindex.py `exact`) and
    the window asks nothing but times, sources, brands and products (search_docs has them all)."""
    return query is not None and exact(query) and not window.topics


def _counted_by_index(store: Store, query: Query | None, window: Window) -> int | None:
    """The count from search_docs alone, when its candidates are exactly the matches."""
    if not _index_answers(query, window):
        return None
    docs = _candidates(store, query, window)
    if docs is None:
        return None
    if window.brands or window.products:
        sql, params = _candidate_docs(docs, window)
    else:
        sql, params = docs
    return int(store.query(f"SELECT count(*) FROM ({sql})", params)[0][0])
