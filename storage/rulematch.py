"""Which stored mentions each of many watch queries matches, for `koubei retag` (storage/tagging.py):
TEMP TABLE koubei_hits (source, native_id, rule), one row per mention and rule whose query matches.

With a complete full-text index, a query `exact_docs` can answer (two-character words, AND, OR,
NOT, source:) is answered from the postings, reading no text. The others read the texts of their
candidates only, all of them in one pass over the union of their candidates: each query is a
column of that SELECT, computed only where the doc is among its own candidates. Without the index
every query is such a column over every eligible mention.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def match_rules(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], indexed: bool, scope: Scope) -> None:
    """Fill TEMP TABLE koubei_hits with every rule's matches. Exact rules' hits are not checked
    against `scope.eligible` (that needs the mentions: the caller joins them)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {HITS} (source VARCHAR, native_id VARCHAR, rule INTEGER)")
    postings = copied_postings(con, [rule.query for rule in rules]) if indexed else ""
    exact = {
        rule.number: found for rule in rules if indexed and (found := exact_docs(rule.query, postings)) is not None
    }
    _insert_exact(con, [(number, sql) for number, sql in exact.items()], scope)
    _insert_scanned(con, [rule for rule in rules if rule.number not in exact], postings, scope)
    if indexed:
        con.execute(f"DROP TABLE {postings}")


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


def _insert_scanned(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], postings: str, scope: Scope) -> None:
    """The other rules, matched on the texts in one pass (one column per rule); `postings`: the
    table of their grams' postings, empty without the index."""
    if not rules:
        return
    found = {rule.number: candidates(rule.query, postings) for rule in rules} if postings else {}
    narrowed = [(rule.number, sql) for rule in rules if (sql := found.get(rule.number)) is not None]
    bit = {number: (n // _BITS, 1 << (n % _BITS)) for n, (number, _) in enumerate(narrowed)}
    params: list[object] = []
    columns = [_column(rule, bit.get(rule.number), params) for rule in rules]
    mentions = _candidate_mentions(narrowed, every=len(narrowed) < len(rules), scope=scope, params=params)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE koubei_matched AS SELECT c.source, c.native_id, {', '.join(columns)}"
        f" FROM ({mentions}) c WHERE {scope.eligible}",
        params,
    )
    hits = " UNION ALL ".join(
        f"SELECT source, native_id, {rule.number} AS rule FROM koubei_matched WHERE q{rule.number}" for rule in rules
    )
    con.execute(f"INSERT INTO {HITS} {hits}")
    con.execute("DROP TABLE koubei_matched")


def _column(rule: Rule, bit: tuple[int, int] | None, params: list[object]) -> str:
    """q<number>: whether the rule matches c; its text is read only where the doc is among the
    rule's candidates and the rule's condition holds (CASE: evaluated on those rows alone)."""
    matched = column(rule.query, alias="c")
    among = f"(c.mask{bit[0]} & {bit[1]}) <> 0 AND " if bit is not None else ""
    params += [*rule.condition.params, *matched.params]
    return f"CASE WHEN {among}{rule.condition.sql} THEN {matched.sql} ELSE false END AS q{rule.number}"


def _candidate_mentions(narrowed: Sequence[tuple[int, Sql]], every: bool, scope: Scope, params: list[object]) -> str:
    """A SELECT of the mentions some rule can match, with mask<k> columns: bit n of mask<n // 63>
    set where the doc is among the candidates of the n-th narrowed rule. `every`: a rule cannot
    be narrowed, so every mention is listed (masks NULL where no narrowed rule lists it)."""
    within = f" SEMI JOIN {scope.within} USING (source, native_id)" if scope.within else ""
    listed = (
        "SELECT m.source, m.native_id, m.text, m.language, nullif(m.brand, '') AS brand,"
        " nullif(m.product, '') AS product"
    )
    if not narrowed:
        return f"{listed} FROM mentions m{within}"
    chunks = range(1 + (len(narrowed) - 1) // _BITS)
    parts = " UNION ALL ".join(
        f"SELECT doc, {n // _BITS} AS chunk, {1 << (n % _BITS)}::BIGINT AS bit FROM ({sql})"
        for n, (_, (sql, _)) in enumerate(narrowed)
    )
    params += [param for _, (_, found) in narrowed for param in found]
    masks = ", ".join(f"bit_or(bit) FILTER (WHERE chunk = {k}) AS mask{k}" for k in chunks)
    keyed = f"SELECT d.source, d.native_id, k.* EXCLUDE (doc) FROM (SELECT doc, {masks} FROM ({parts}) GROUP BY doc) k JOIN search_docs d USING (doc)"
    join = "LEFT JOIN" if every else "JOIN"
    mask_columns = ", ".join(f"k.mask{k}" for k in chunks)
    return f"{listed}, {mask_columns} FROM mentions m{within} {join} ({keyed}) k USING (source, native_id)"
