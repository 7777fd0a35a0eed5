"""The full-text index: the character bigrams of each mention's normalised text (what watch
queries compare: simplified Chinese, lower-case Latin; querylang/match.py), kept at ingest.

A query's words need all their bigrams, so the postings of those bigrams give a superset of the
mentions a query can match (its candidates); storage/search.py then runs the exact predicate only
where the candidates are. A single character has no bigram and NOT and fields constrain nothing:
a query with no word of two characters or more outside a NOT is answered by the scan.

Postings are appended at ingest, deleted and appended again when a mention's text or time changes,
deleted with a forgotten mention. Sorted by (gram, doc), a gram's postings sit in a few row groups
that zone maps find; appended unsorted, they are spread over every row group the tail holds. So
search_grams is a sorted body and sorted runs, then an unsorted tail: the docs after
search_index_state.sorted_through (migration 195), numbered in the order they were appended.
`sort_postings_tail` rewrites the tail as one more sorted run (a pass does once it holds TAIL_DOCS
docs: koubei/pipeline.py), `sort_postings` rewrites all of them as one run (`koubei rebuild-index
--sort-only`), and `rebuild_index` re-reads every text and then sorts.

search_docs also carries each mention's brand, product and reach (migration 193), so an explorer
page filters and sorts its candidates without reading mentions. They are kept equal to mentions':
at ingest (a re-collect that changes only counts updates reach without reindexing the text), and by
`follow_mentions`, which whatever else writes mentions' brand, product or counts calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import lru_cache

import duckdb
import numpy as np
import pyarrow as pa

from querylang import Field, Near, Node, Query, Term
from querylang.match import normalise, variants
from querylang.tree import All, Any, Not
from storage.db import FILE, StorageError, Store

GRAM_SHIFT = 21  # code points need 21 bits: gram = first << 21 | second
_CHUNK = 100_000  # mentions per rebuild step
# Migration 191 sorted the postings a range of first characters at a time, these ranges: at
# 10,000,000 mentions (about 550 million postings) one sort of them all would hold about 25 GB.
# The largest of them still held a quarter of the postings (13.5 of 55.1 million on the 1M year
# store; 11 GB peak at 10M), so sorts now cut ranges of whole grams by count (_gram_ranges).
SORT_RANGES = (0, 0x5000, 0x6000, 0x7000, 0x8000, 0x110000)
# Postings per sort: the peak memory of a sort follows its rows, not the store's size, so the
# figure measured at 1M holds at 10M (docs/performance.md, round 28).
SORT_POSTINGS = 8_000_000
# DuckDB's memory while sorting (its default is 80% of RAM, and the blocks a full sort reads stay
# cached up to it: 10M's postings are 5 GB): a sort past it spills to disk instead.
SORT_MEMORY = "2GB"
# Docs in the unsorted tail worth a pass's sort: ~55 postings each, one sort of a few seconds.
TAIL_DOCS = 50_000


def bigrams(text: str) -> set[int]:
    """The grams of a text as stored, normalised as queries compare it."""
    return set(_grams_of([text])[1].tolist())


@lru_cache(maxsize=1)
def _normalised_codes() -> np.ndarray:
    """Each code point -> the code point it normalises to (querylang.match.variants, inverted)."""
    table = np.arange(0x110000, dtype=np.int64)
    for normal, spellings in variants().items():
        for spelling in spellings:
            table[ord(spelling)] = ord(normal)
    return table


def _grams_of(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(position in `texts`, gram) of every distinct bigram of each text, sorted."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    normal = _normalised_codes()[codes]
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    same = owner[:-1] == owner[1:]
    grams = (normal[:-1] << GRAM_SHIFT) | normal[1:]
    # one sortable number per (text, gram): grams take 42 bits, the position the rest
    # a stable sort is numpy's radix sort for integers: 50x faster than np.unique here (numpy 2.4)
    keyed = np.sort((owner[:-1][same] << (2 * GRAM_SHIFT)) | grams[same], kind="stable")
    keyed = keyed[np.diff(keyed, prepend=-1) != 0]
    return keyed >> (2 * GRAM_SHIFT), keyed & ((1 << (2 * GRAM_SHIFT)) - 1)


def index_written(store: Store, keys: Sequence[tuple[str, str]], table: str, replacing: bool = False) -> None:
    """Index the mentions `keys` names as `table` (mentions, or an upsert's batch) holds them, inside
    the caller's transaction. `replacing`: they were indexed before: those whose text or time
    changed (not only their counts) lose their old postings and are indexed again."""
    if not keys or store.backend != FILE:
        return
    con = store.con
    con.register("koubei_indexed", pa.table({"source": [k[0] for k in keys], "native_id": [k[1] for k in keys]}))
    written = f"SELECT {_INDEXED} FROM {table} SEMI JOIN koubei_indexed USING (source, native_id)"
    try:
        if replacing:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE koubei_rewritten AS"
                " SELECT w.source, w.native_id, w.brand, w.product, w.reach, d.doc,"
                " d.doc IS NULL OR d.text_hash <> hash(w.text) OR d.published_at <> w.published_at AS reindexed"
                f" FROM ({written}) w LEFT JOIN search_docs d USING (source, native_id)"
            )
            reindexed = "SELECT doc FROM koubei_rewritten WHERE reindexed"
            con.execute(f"DELETE FROM search_grams WHERE doc IN ({reindexed})")
            con.execute(f"DELETE FROM search_docs WHERE doc IN ({reindexed})")
            # the others keep their postings: only their brand, product or counts may have changed
            con.execute(
                f"UPDATE search_docs SET {_FOLLOWED} FROM koubei_rewritten m"
                f" WHERE search_docs.doc = m.doc AND NOT m.reindexed AND {_DIFFERENT}"
            )
            written += (
                " SEMI JOIN (SELECT source, native_id FROM koubei_rewritten WHERE reindexed) USING (source, native_id)"
            )
        rows = con.execute(written).fetchall()
    finally:
        con.unregister("koubei_indexed")
        con.execute("DROP TABLE IF EXISTS koubei_rewritten")
    _append(store, rows)


# What search_docs copies of a mention (migration 193), as storage/search.py's _REACH sums it.
REACH = "coalesce(likes, 0) + coalesce(reposts, 0) + coalesce(replies, 0)"
_INDEXED = f"source, native_id, published_at, text, brand, product, {REACH} AS reach"
_FOLLOWED = "brand = m.brand, product = m.product, reach = m.reach"
_DIFFERENT = (
    "(search_docs.brand, search_docs.product, search_docs.reach) IS DISTINCT FROM (m.brand, m.product, m.reach)"
)
Indexed = tuple[str, str, datetime, str, str | None, str | None, int]  # _INDEXED's columns


def follow_mentions(store: Store, changed: str, params: Sequence[object] = ()) -> None:
    """Copy the brand, product and reach of the mentions `changed` (a SELECT of source, native_id)
    lists from mentions to search_docs, inside the caller's transaction, after it wrote them there
    (`koubei retag`, set_brands): an explorer page reads them from search_docs alone. Only the rows
    that differ are written."""
    if store.backend != FILE:
        return
    store.con.execute(
        f"UPDATE search_docs SET {_FOLLOWED} FROM (SELECT source, native_id, brand, product, {REACH} AS reach"
        f" FROM mentions WHERE (source, native_id) IN ({changed})) m"
        f" WHERE search_docs.source = m.source AND search_docs.native_id = m.native_id AND {_DIFFERENT}",
        list(params),
    )


def _append(store: Store, rows: Sequence[Indexed]) -> None:
    con = store.con
    # never at or below sorted_through (its highest docs may have been forgotten): a new doc's
    # postings are in the unsorted tail
    first = int(
        con.execute(
            "SELECT greatest(coalesce(max(doc), 0), (SELECT coalesce(max(sorted_through), 0) FROM search_index_state))"
            " + 1 FROM search_docs"
        ).fetchall()[0][0]
    )
    docs = np.arange(first, first + len(rows), dtype=np.int64)
    position, grams = _grams_of([r[3] for r in rows])
    con.register(
        "koubei_docs",
        pa.table(
            {
                "doc": docs,
                "source": [r[0] for r in rows],
                "native_id": [r[1] for r in rows],
                "published_at": pa.array([r[2] for r in rows], pa.timestamp("us")),
                "text": [r[3] for r in rows],
                "brand": pa.array([r[4] for r in rows], pa.string()),
                "product": pa.array([r[5] for r in rows], pa.string()),
                "reach": pa.array([r[6] for r in rows], pa.int64()),
            }
        ),
    )
    times = np.array([r[2] for r in rows], dtype="datetime64[us]")
    con.register("koubei_grams", pa.table({"gram": grams, "doc": docs[position], "published_at": times[position]}))
    try:
        con.execute(
            "INSERT INTO search_docs (doc, source, native_id, published_at, text_hash, brand, product, reach)"
            " SELECT doc, source, native_id, published_at, hash(text), brand, product, reach FROM koubei_docs"
        )
        con.execute("INSERT INTO search_grams SELECT gram, doc, published_at FROM koubei_grams")
    finally:
        con.unregister("koubei_docs")
        con.unregister("koubei_grams")


def forget_postings(store: Store, doomed: str) -> None:
    """Delete the postings of the mentions `doomed` (a SELECT of source, native_id) lists, inside
    the caller's transaction, before their docs go (storage/forget.py DERIVED_TABLES): an erased
    text leaves none of its grams behind."""
    store.con.execute(
        f"DELETE FROM search_grams WHERE doc IN (SELECT doc FROM search_docs WHERE (source, native_id) IN ({doomed}))"
    )


def index_complete(store: Store) -> bool:
    """Whether the index covers every stored mention. Never on the lake: its workers write at once,
    and numbering docs needs one writer (there searches scan)."""
    if store.backend != FILE:
        return False
    row = store.query("SELECT bool_and(complete) FROM search_index_state")
    return bool(row and row[0][0])


def rebuild_index(store: Store) -> int:
    """Index every stored mention afresh, postings sorted by gram; returns how many mentions."""
    _require_file(store)
    con = store.con
    with store.transaction():
        # a new table, not a DELETE of every posting (see _sort_after)
        con.execute("DROP TABLE search_grams")
        con.execute(f"CREATE TABLE search_grams ({_POSTINGS_COLUMNS})")
        con.execute("DELETE FROM search_docs")
        con.execute("DELETE FROM search_index_state")
        con.execute("INSERT INTO search_index_state (complete, sorted_through) VALUES (true, 0)")
        indexed = 0
        for rows in _stored_mentions(store):
            _append(store, rows)
            indexed += len(rows)
        _sort_after(store, 0)
    return indexed


def sort_postings(store: Store) -> int:
    """Rewrite all the postings sorted by (gram, doc) as one run, reading no text (`koubei
    rebuild-index --sort-only`); returns how many postings."""
    _require_file(store)
    with store.transaction():
        return _sort_after(store, 0)


def unsorted_docs(store: Store) -> int:
    """How many docs the unsorted tail holds (those after sorted_through)."""
    if store.backend != FILE:
        return 0
    return int(store.query(f"SELECT count(*) FROM search_docs WHERE doc > ({_SORTED_THROUGH})")[0][0])


def sort_postings_tail(store: Store, at_least: int = 1) -> int:
    """Rewrite the postings of the docs after sorted_through sorted by (gram, doc), as one run
    appended after the others, when the tail holds `at_least` docs; returns how many postings."""
    if store.backend != FILE or unsorted_docs(store) < max(at_least, 1):
        return 0
    with store.transaction():
        through = int(store.query(_SORTED_THROUGH)[0][0])
        return _sort_after(store, through)


_SORTED_THROUGH = "SELECT coalesce(max(sorted_through), 0) FROM search_index_state"


def _require_file(store: Store) -> None:
    if store.backend != FILE:
        raise StorageError("the full-text index is kept in a database file only: on the lake, searches scan")


def _sort_after(store: Store, through: int) -> int:
    """Inside the caller's transaction: the postings of the docs after `through` written again
    sorted by (gram, doc), one range of grams at a time into a scratch table (no sort holds more
    than SORT_POSTINGS of them), and sorted_through set to the highest doc. The tail's postings
    are deleted and the run appended; all of them (`through` 0) replace the table instead: a
    DELETE of every posting would hold a delete mark per row in memory (8 bytes: 4.4 GB at 10M)."""
    con = store.con
    last = int(con.execute("SELECT coalesce(max(doc), 0) FROM search_docs").fetchall()[0][0])
    con.execute(f"SET memory_limit = '{SORT_MEMORY}'")
    con.execute(f"CREATE OR REPLACE TABLE koubei_grams_sorted ({_POSTINGS_COLUMNS})")
    try:
        for low, high in _gram_ranges(store, through):
            con.execute(
                "INSERT INTO koubei_grams_sorted SELECT * FROM search_grams"
                " WHERE doc > ? AND gram >= ? AND gram < ? ORDER BY gram, doc",
                [through, low, high],
            )
        moved = int(con.execute("SELECT count(*) FROM koubei_grams_sorted").fetchall()[0][0])
        if through == 0:
            con.execute("DROP TABLE search_grams")
            con.execute("ALTER TABLE koubei_grams_sorted RENAME TO search_grams")
        else:
            con.execute("DELETE FROM search_grams WHERE doc > ?", [through])
            # in insertion order (DuckDB keeps it): the run is stored as sorted; the deleted tail's
            # row groups go at the next checkpoint
            con.execute("INSERT INTO search_grams SELECT * FROM koubei_grams_sorted")
    finally:
        con.execute("DROP TABLE IF EXISTS koubei_grams_sorted")
        # back to DuckDB's default, which nothing else changes: setting back the value read
        # (rounded, "18.8 GiB") would shrink it a little each time
        con.execute("RESET memory_limit")
    con.execute("UPDATE search_index_state SET sorted_through = greatest(sorted_through, ?)", [last])
    return moved


# search_grams as migration 191 created it
_POSTINGS_COLUMNS = "gram BIGINT NOT NULL, doc BIGINT NOT NULL, published_at TIMESTAMP NOT NULL"


def _gram_ranges(store: Store, through: int) -> list[tuple[int, int]]:
    """[low, high) ranges of grams covering the postings of the docs after `through`, each holding
    at most SORT_POSTINGS of them (or one gram's, if it alone holds more)."""
    counts = store.con.execute(
        "SELECT gram, count(*) AS postings FROM search_grams WHERE doc > ? GROUP BY gram ORDER BY gram", [through]
    ).fetchnumpy()
    grams, sizes = counts["gram"], counts["postings"]
    ranges: list[tuple[int, int]] = []
    low, held = 0, 0
    for gram, size in zip(grams.tolist(), sizes.tolist(), strict=True):
        if held and held + size > SORT_POSTINGS:
            ranges.append((low, gram))
            low, held = gram, 0
        held += size
    if held:
        ranges.append((low, 1 << (2 * GRAM_SHIFT)))
    return ranges


def _stored_mentions(store: Store) -> Iterator[list[Indexed]]:
    # its own cursor: the index's writes on the store's connection would end a result it streams
    reader = store.con.cursor().execute(f"SELECT {_INDEXED} FROM mentions").to_arrow_reader(_CHUNK)
    for batch in reader:
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        yield list(zip(*columns, strict=True))


Sql = tuple[str, list[object]]  # a statement and its parameters


def candidates(query: Query, postings: str = "search_grams") -> Sql | None:
    """A SELECT of the docs the query can match (a superset), or None when the index cannot narrow it.
    `postings`: a table of (gram, doc) holding at least the query's grams' postings (query_grams)."""
    return _candidates(query.root, "doc", postings)


def query_grams(query: Query) -> set[int]:
    """The grams of every word of the query, those under NOT too."""
    return {gram for word in query.every_word() for gram in bigrams(normalise(word))}


def copied_postings(con: duckdb.DuckDBPyConnection, queries: Sequence[Query]) -> str:
    """TEMP TABLE koubei_postings: the postings of the queries' grams, read in one pass over
    search_grams (each gram read on its own costs about as much as all of them: ~0.3 s at 1M
    mentions, warm, where zone maps skip little); its name, for candidates and exact_docs."""
    grams = sorted(set().union(*(query_grams(q) for q in queries)))
    marks = ", ".join("?" for _ in grams) or "NULL"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE koubei_postings AS SELECT gram, doc FROM search_grams WHERE gram IN ({marks})",
        grams,
    )
    return "koubei_postings"


def timed_candidates(query: Query) -> Sql | None:
    """`candidates` with each doc's published_at (doc, published_at), from the postings alone: the
    newest candidates and their count need no other table."""
    return _candidates(query.root, "doc, published_at", "search_grams")


def _candidates(node: Node, columns: str, postings: str) -> Sql | None:
    match node:
        case Term(word):
            return _word(word, columns, postings)
        case Near(left, right, _):
            return _joined("INTERSECT", [_word(left.text, columns, postings), _word(right.text, columns, postings)])
        case All(operands):
            return _joined("INTERSECT", [_candidates(o, columns, postings) for o in operands])
        case Any(operands):
            parts = [_candidates(o, columns, postings) for o in operands]
            return None if None in parts else _joined("UNION", parts)
    return None  # NOT and fields: answered by the exact predicate alone


def required_sources(query: Query) -> frozenset[str] | None:
    """The sources every mention the query matches comes from (`source:` filters it cannot do
    without), so the candidate step reads only their docs; None: any source."""
    return _sources(query.root)


def _sources(node: Node) -> frozenset[str] | None:
    match node:
        case Field("source", value):
            return frozenset([value])
        case All(operands):
            found = [s for s in map(_sources, operands) if s is not None]
            return frozenset.intersection(*found) if found else None
        case Any(operands):
            parts = [_sources(o) for o in operands]
            return None if any(p is None for p in parts) else frozenset().union(*(p for p in parts if p is not None))
    return None


def exact(query: Query) -> bool:
    """Whether the docs `candidates` lists, of the query's `required_sources`, are exactly the
    mentions the query matches, so the index alone counts them: words of two characters (whose one
    bigram is the word) joined by AND and OR, beside `source:` filters at the top."""
    root = query.root
    operands = root.operands if isinstance(root, All) else (root,)
    words = [o for o in operands if not isinstance(o, Field)]
    sources_only = all(o.name == "source" for o in operands if isinstance(o, Field))
    return sources_only and bool(words) and all(map(_exact_words, words))


def _exact_words(node: Node) -> bool:
    match node:
        case Term(word):
            return len(normalise(word)) == 2
        case All(operands) | Any(operands):
            return all(map(_exact_words, operands))
    return False


ALL_DOCS: Sql = ("SELECT doc FROM search_docs", [])


def exact_docs(query: Query, postings: str = "search_grams") -> Sql | None:
    """A SELECT of exactly the docs the query matches, from the postings (and search_docs' sources)
    alone, reading no text; None when only the texts can tell (a word of one or of three or more
    characters, NEAR, a field other than source:). A two-character word's one bigram is the word,
    so its postings are its matches; AND intersects doc sets, OR unites them, NOT takes them away.
    `postings`: as for `candidates`."""
    return _exact(query.root, postings)


def _exact(node: Node, postings: str) -> Sql | None:
    match node:
        case Term(word):
            grams = sorted(bigrams(normalise(word)))
            return (f"SELECT doc FROM {postings} WHERE gram = ?", [grams[0]]) if len(normalise(word)) == 2 else None
        case Field("source", value):
            return "SELECT doc FROM search_docs WHERE source = ?", [value]
        case Not(operand):
            return _all_but([ALL_DOCS], [operand], postings)
        case All(operands):
            kept = [_exact(o, postings) for o in operands if not isinstance(o, Not)]
            return _all_but(kept or [ALL_DOCS], [o.operand for o in operands if isinstance(o, Not)], postings)
        case Any(operands):
            parts = [_exact(o, postings) for o in operands]
            return None if None in parts else _set_operation("UNION", parts)
    return None


def _all_but(kept: Sequence[Sql | None], removed: Sequence[Node], postings: str) -> Sql | None:
    """The docs in every one of `kept` and in none of `removed`'s."""
    taken = [_exact(o, postings) for o in removed]
    if None in kept or None in taken:
        return None
    both = _set_operation("INTERSECT", kept)
    if not taken:
        return both
    return _set_operation("EXCEPT", [both, _set_operation("UNION", taken)])


def _set_operation(operator: str, parts: Sequence[Sql | None]) -> Sql:
    known = [p for p in parts if p is not None]
    if len(known) == 1:
        return known[0]
    sql = f" {operator} ".join(f"({p[0]})" for p in known)
    return f"SELECT doc FROM ({sql})", [param for p in known for param in p[1]]


def _joined(operator: str, parts: Sequence[Sql | None]) -> Sql | None:
    known = [p for p in parts if p is not None]
    if len(known) <= 1:
        return known[0] if known else None
    sql = f" {operator} ".join(f"({p[0]})" for p in known)
    return f"SELECT * FROM ({sql})", [param for p in known for param in p[1]]


def _word(word: str, columns: str, postings: str) -> Sql | None:
    grams: list[object] = [*sorted(bigrams(normalise(word)))]
    if len(grams) <= 1:
        return (f"SELECT {columns} FROM {postings} WHERE gram = ?", grams) if grams else None
    marks = ", ".join("?" for _ in grams)
    # a doc's published_at is one value: grouping by it too only carries it along
    return f"SELECT {columns} FROM {postings} WHERE gram IN ({marks}) GROUP BY {columns} HAVING count(*) = ?", [
        *grams,
        len(grams),
    ]


def index_bytes(store: Store) -> int:
    """Bytes of the blocks that hold the index's tables (after a checkpoint: as the file stores them)."""
    block = int(store.query("SELECT block_size FROM pragma_database_size()")[0][0])
    blocks = sum(
        int(
            store.query(f"SELECT count(DISTINCT block_id) FROM pragma_storage_info('{table}') WHERE block_id >= 0")[0][
                0
            ]
        )
        for table in ("search_docs", "search_grams")
    )
    return blocks * block
