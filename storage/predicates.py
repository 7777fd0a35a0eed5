"""A parsed watch query (querylang) as a SQL predicate over mentions, so tagging history and search
run in the database. User text only ever travels as parameters.

The stored text is not normalised: a term becomes a regular expression whose every character is a
class of the characters that normalise to it (电 -> [电電], a -> [aA]), so it matches exactly where
querylang's Python matcher, which normalises the text, does.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from querylang import FIELDS, Near, Node, Query, Term
from querylang.match import normalise, variants
from querylang.tree import All, Any, Field, Not

_PUNCTUATION = set(string.punctuation)
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
MAX_SPELLINGS = 16


@dataclass
class Predicate:
    """SQL text with ? placeholders and their values, in order."""

    sql: str
    params: list[object] = field(default_factory=list)


def predicate(query: Query, alias: str = "") -> Predicate:
    """The query as a WHERE condition on mentions (columns prefixed with `alias.` when given)."""
    return _compiled(query, alias, _Joiners(_where_all, _where_any))


def column(query: Query, alias: str = "") -> Predicate:
    """The query as a boolean column of a SELECT: the same truth as `predicate`, its AND and OR
    written as CASE, which evaluates a branch only on the rows that reach it. In a select list
    DuckDB (1.5) evaluates every operand of AND on every row (as a WHERE it does not): `contains
    AND regexp_matches` ran the expression on all rows, 100x slower than the CASE on 1M rows."""
    return _compiled(query, alias, _Joiners(_case_all, _case_any))


@dataclass(frozen=True)
class _Joiners:
    every: Callable[[list[str]], str]  # SQL true where every part is
    some: Callable[[list[str]], str]  # SQL true where some part is


def _compiled(query: Query, alias: str, joiners: _Joiners) -> Predicate:
    prefix = f"{alias}." if alias else ""
    params: list[object] = []
    sql = _compile(query.root, prefix, params, joiners)
    return Predicate(sql, params)


def _where_all(parts: list[str]) -> str:
    return "(" + " AND ".join(parts) + ")"


def _where_any(parts: list[str]) -> str:
    return "(" + " OR ".join(parts) + ")"


def _case_all(parts: list[str]) -> str:
    # nested so that the parts keep their order in the text (their ? parameters are in that order)
    sql = parts[-1]
    for part in reversed(parts[:-1]):
        sql = f"(CASE WHEN {part} THEN {sql} ELSE false END)"
    return sql


def _case_any(parts: list[str]) -> str:
    sql = parts[-1]
    for part in reversed(parts[:-1]):
        sql = f"(CASE WHEN {part} THEN true ELSE {sql} END)"
    return sql


def _compile(node: Node, prefix: str, params: list[object], joiners: _Joiners) -> str:
    match node:
        case Term(word):
            return _term(normalise(word), prefix, params, joiners)
        case Field(name, value):
            params.append(value)
            return f"coalesce({prefix}{FIELDS[name]}, '') = ?"
        case Near(left, right, distance):
            # both terms occurring is a quick necessary condition for the regular expression
            both = [_term(normalise(left.text), prefix, params, joiners)]
            both.append(_term(normalise(right.text), prefix, params, joiners))
            a, b = term_pattern(normalise(left.text)), term_pattern(normalise(right.text))
            gap = f".{{0,{distance}}}"
            params.append(f"(?s){a}{gap}{b}|{b}{gap}{a}")
            return joiners.every([*both, f"regexp_matches({prefix}text, ?)"])
        case Not(operand):
            return f"(NOT {_compile(operand, prefix, params, joiners)})"
        case All(operands):
            return joiners.every([_compile(o, prefix, params, joiners) for o in operands])
        case Any(operands):
            return joiners.some([_compile(o, prefix, params, joiners) for o in operands])
    raise TypeError(node)


def _term(word: str, prefix: str, params: list[object], joiners: _Joiners) -> str:
    """The fastest exact form: DuckDB's `contains` is many times faster than a regular expression."""
    table = variants()
    if not any(c in table for c in word):
        params.append(word)  # no other character normalises to any of its: a plain substring
        return f"contains({prefix}text, ?)"
    spellings = spellings_of(word)
    if spellings is not None:
        params += spellings
        return joiners.some([f"contains({prefix}text, ?)" for _ in spellings])
    params.append(term_pattern(word))
    matched = f"regexp_matches({prefix}text, ?)"
    anchor = max(_ASCII_RUN.findall(word), key=len, default="")
    if len(anchor) < 2:
        return matched
    # Lower-casing the text keeps every ASCII run of it that normalises to the anchor: a quick
    # necessary condition, so the expression runs only on candidates.
    params.insert(len(params) - 1, anchor)
    return joiners.every([f"contains(lower({prefix}text), ?)", matched])


def spellings_of(word: str) -> list[str] | None:
    """Every text spelling of a word without Latin letters, when there are few (发热: 发热 發热 发熱 發熱)."""
    table = variants()
    if any(c.isascii() and c.isalpha() for c in word):
        return None
    spellings = [""]
    for c in word:
        spellings = [s + v for s in spellings for v in table.get(c, c)]
        if len(spellings) > MAX_SPELLINGS:
            return None
    return spellings


def term_pattern(word: str) -> str:
    """A regular expression matching where the normalised text contains the (normalised) word."""
    table = variants()
    return "".join(f"[{''.join(_escaped(v) for v in table[c])}]" if c in table else _escaped(c) for c in word)


def _escaped(char: str) -> str:
    return "\\" + char if char in _PUNCTUATION else char
