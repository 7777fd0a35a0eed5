"""Which stored mentions each of many watch queries matches, for `koubei retag` (storage/tagging.py):
TEMP TABLE koubei_hits (source, native_id, rule), one row per mention and rule whose query matches.

With a complete full-text index, a query `exact_docs` can answer (two-character words, AND, OR,
NOT, source:) is answered from the postings, reading no text. The others read the texts of their
candidates only, all of them in one pass over the union of their candidates: each query is a
column of that SELECT, computed only where the doc is among its own candidates. Without the index
every query is such a column over every eligible mention.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

from querylang import Query
from storage.predicates import Predicate, column
from storage.textindex import Sql, candidates, copied_postings, exact_docs

HITS = "koubei_hits"
_BITS = 63  # rules per candidate mask column (a BIGINT's bits, the sign's left alone)


@dataclass(frozen=True)
class Rule:
    number: int  # its `rule` in koubei_hits
    query: Query
    # what else a mention must satisfy (on the columns c.brand, c.product) before its text is read
    condition: Predicate = field(default_factory=lambda: Predicate("true"))


@dataclass(frozen=True)
class Scope:
    """The mentions to consider: `eligible`, a condition on c (source, native_id, text, language,
    brand, product; brand and product '' read as NULL), and, when `within` names a table of
    (source, native_id), only those."""

    eligible: str = "true"
    within: str | None = None


@contextmanager
def read_postings(con: duckdb.DuckDBPyConnection, queries: Sequence[Query], indexed: bool) -> Iterator[str]:
    """The postings of the queries' grams, read once (textindex.copied_postings) for every
    `match_rules` inside, inside the caller's transaction; '' without the index."""
    if not indexed:
        yield ""
        return
    postings = copied_postings(con, queries)
    yield postings
    con.execute(f"DROP TABLE {postings}")


def match_rules(
    con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], postings: str, scope: Scope, texts_of: Sequence[int] = ()
) -> None:
    """Fill TEMP TABLE koubei_hits with every rule's matches; `postings`: `read_postings`' table
    of their grams' postings, '' without the index (every rule is matched on the texts). Exact
    rules' hits are not checked against `scope.eligible` (that needs the mentions: the caller
    joins them). `texts_of`: rule numbers; the texts of the mentions two or more of them match
    (ignoring their conditions) are kept in TEMP TABLE koubei_texts (source, native_id, text),
    read in the same pass."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {HITS} (source VARCHAR, native_id VARCHAR, rule INTEGER)")
    exact = {
        rule.number: found for rule in rules if postings and (found := exact_docs(rule.query, postings)) is not None
    }
    _insert_exact(con, [(number, sql) for number, sql in exact.items()], scope)
    scanned = [rule for rule in rules if rule.number not in exact]
    kept = [(number, sql) for number, sql in exact.items() if number in texts_of]
    _insert_scanned(con, _Pass(scanned, kept, frozenset(texts_of)), postings, scope)


def _insert_exact(con: duckdb.DuckDBPyConnection, found: Sequence[tuple[int, Sql]], scope: Scope) -> None:
    """The exact rules' docs, all of them joined to search_docs for their keys at once."""
    if not found:
        return
    docs = " UNION ALL ".join(f"SELECT doc, {number} AS rule FROM ({sql})" for number, (sql, _) in found)
    within = f" SEMI JOIN {scope.within} USING (source, native_id)" if scope.within else ""
    con.execute(
        f"INSERT INTO {HITS} SELECT d.source, d.native_id, e.rule FROM ({docs}) e JOIN search_docs d USING (doc){within}",
        [param for _, (_, params) in found for param in params],
    )


@dataclass(frozen=True)
class _Pass:
    """What the pass over texts does: match the `scanned` rules, and keep the texts of the mentions
    two or more `texts_of` rules match (the `exact` ones among them known from their docs)."""

    scanned: Sequence[Rule]
    exact: Sequence[tuple[int, Sql]]
    texts_of: frozenset[int]


def _insert_scanned(con: duckdb.DuckDBPyConnection, work: _Pass, postings: str, scope: Scope) -> None:
    """The scanned rules, matched on the texts in one pass (one column per rule), and the texts
    `work` keeps (TEMP TABLE koubei_texts); `postings`: the table of the rules' grams' postings,
    empty without the index."""
    if work.texts_of:
        con.execute("CREATE OR REPLACE TEMP TABLE koubei_texts (source VARCHAR, native_id VARCHAR, text VARCHAR)")
    if not work.scanned and len(work.exact) < 2:
        return
    found = {rule.number: candidates(rule.query, postings) for rule in work.scanned} if postings else {}
    narrowed = [(rule.number, sql) for rule in work.scanned if (sql := found.get(rule.number)) is not None]
    # one bit per narrowed scanned rule, then one per exact rule whose matches' texts are kept
    bit = {number: (n // _BITS, 1 << (n % _BITS)) for n, (number, _) in enumerate([*narrowed, *work.exact])}
    params: list[object] = []
    columns = [_column(rule, bit.get(rule.number), params) for rule in work.scanned]
    listed = _Listed([number for number, _ in narrowed], [number for number, _ in work.exact], bit)
    mentions = _candidate_mentions(
        [*narrowed, *work.exact], listed, every=len(narrowed) < len(work.scanned), scope=scope, params=params
    )
    matched = [f"q{rule.number}" for rule in work.scanned]
    kept = _kept_text(work, bit)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE koubei_matched AS SELECT source, native_id, {', '.join([*matched, kept])}"
        f" FROM (SELECT c.source, c.native_id, c.text, {', '.join(['c.mask' + str(k) for k in listed.chunks] + columns)}"
        f" FROM ({mentions}) c WHERE {scope.eligible}) c",
        params,
    )
    hits = " UNION ALL ".join(
        f"SELECT source, native_id, {rule.number} AS rule FROM koubei_matched WHERE q{rule.number}"
        for rule in work.scanned
    )
    if hits:
        con.execute(f"INSERT INTO {HITS} {hits}")
    if work.texts_of:
        con.execute(
            "INSERT INTO koubei_texts SELECT source, native_id, text FROM koubei_matched WHERE text IS NOT NULL"
        )
    con.execute("DROP TABLE koubei_matched")


def _kept_text(work: _Pass, bit: dict[int, tuple[int, int]]) -> str:
    """The text where two or more of `work.texts_of` match, else NULL."""
    counted = [f"q{rule.number}::INTEGER" for rule in work.scanned if rule.number in work.texts_of]
    counted += [f"coalesce((c.mask{bit[n][0]} & {bit[n][1]}) <> 0, false)::INTEGER" for n, _ in work.exact]
    if len(counted) < 2:
        return "NULL::VARCHAR AS text"
    return f"CASE WHEN {' + '.join(counted)} >= 2 THEN c.text END AS text"


def _column(rule: Rule, bit: tuple[int, int] | None, params: list[object]) -> str:
    """q<number>: whether the rule matches c; its text is read only where the doc is among the
    rule's candidates and the rule's condition holds (CASE: evaluated on those rows alone)."""
    matched = column(rule.query, alias="c")
    among = f"(c.mask{bit[0]} & {bit[1]}) <> 0 AND " if bit is not None else ""
    params += [*rule.condition.params, *matched.params]
    return f"CASE WHEN {among}{rule.condition.sql} THEN {matched.sql} ELSE false END AS q{rule.number}"


@dataclass(frozen=True)
class _Listed:
    """Which bits of the masks say a doc is to be read: any `scanned` rule's, or two `exact` ones'."""

    scanned: Sequence[int]
    exact: Sequence[int]
    bit: dict[int, tuple[int, int]]

    @property
    def chunks(self) -> range:
        count = len(self.scanned) + len(self.exact)
        return range(1 + (count - 1) // _BITS) if count else range(0)

    def read(self) -> str:
        """SQL over the mask<k> columns of one doc: whether its text is to be read."""
        conditions = [f"(mask{self.bit[n][0]} & {self.bit[n][1]}) <> 0" for n in self.scanned]
        if len(self.exact) >= 2:
            kept = " + ".join(f"((mask{self.bit[n][0]} & {self.bit[n][1]}) <> 0)::INTEGER" for n in self.exact)
            conditions.append(f"{kept} >= 2")
        return " OR ".join(f"coalesce({c}, false)" for c in conditions) or "false"


def _candidate_mentions(
    sets: Sequence[tuple[int, Sql]], listed: _Listed, every: bool, scope: Scope, params: list[object]
) -> str:
    """A SELECT of the mentions to read, with mask<k> columns: bit n of mask<n // 63> set where
    the doc is in the n-th of `sets` (a narrowed rule's candidates, an exact rule's matches).
    `every`: a rule cannot be narrowed, so every mention is listed (masks NULL where none lists it,
    every doc's masks kept: an exact rule's bit counts toward keeping a text wherever it is set)."""
    within = f" SEMI JOIN {scope.within} USING (source, native_id)" if scope.within else ""
    columns = (
        "SELECT m.source, m.native_id, m.text, m.language, nullif(m.brand, '') AS brand,"
        " nullif(m.product, '') AS product"
    )
    if not sets:
        return f"{columns} FROM mentions m{within}"
    parts = " UNION ALL ".join(
        f"SELECT doc, {n // _BITS} AS chunk, {1 << (n % _BITS)}::BIGINT AS bit FROM ({sql})"
        for n, (_, (sql, _)) in enumerate(sets)
    )
    params += [param for _, (_, found) in sets for param in found]
    masks = ", ".join(f"bit_or(bit) FILTER (WHERE chunk = {k}) AS mask{k}" for k in listed.chunks)
    keyed = (
        f"SELECT d.source, d.native_id, k.* EXCLUDE (doc) FROM (SELECT doc, {masks} FROM ({parts}) GROUP BY doc) k"
        f" JOIN search_docs d USING (doc) WHERE {'true' if every else listed.read()}"
    )
    join = "LEFT JOIN" if every else "JOIN"
    mask_columns = ", ".join(f"k.mask{k}" for k in listed.chunks)
    return f"{columns}, {mask_columns} FROM mentions m{within} {join} ({keyed}) k USING (source, native_id)"
