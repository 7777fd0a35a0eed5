"""Filling in the brand and product of stored mentions from the configured watch queries, in the
database (`koubei retag`; which mentions each query matches: storage/rulematch.py). koubei/brands.py decides the same for one mention at ingest; the
rules are its: a product (longest name first, of the mention's brand if it has one), else the
brand whose query matches with one of its words earliest in the text, configuration order
breaking ties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from querylang import Query
from querylang.match import normalise
from storage.bykey import BY_KEY, key_params, slices
from storage.db import Store
from storage.predicates import Predicate, spellings_of, term_pattern
from storage.rulematch import HITS, Rule, Scope, match_rules, read_postings
from storage.textindex import follow_mentions, index_complete


@dataclass(frozen=True)
class ProductRule:
    product: str
    brand: str
    query: Query


@dataclass(frozen=True)
class BrandRule:
    brand: str
    query: Query


MISSING = "(c.brand IS NULL OR c.product IS NULL)"
PRODUCT, BRAND = "product", "brand"


@dataclass(frozen=True)
class TagRule:
    """A product or brand rule as numbered for one retag (products first, longest name first,
    then brands in configuration order: `rank` within its kind) and as recorded in tag_rules."""

    rule: int
    kind: str
    rank: int
    brand: str
    product: str | None
    query: Query


def tag_rules(products: Sequence[ProductRule], brands: Sequence[BrandRule]) -> list[TagRule]:
    numbered = [TagRule(n, PRODUCT, n, p.brand, p.product, p.query) for n, p in enumerate(products)]
    return numbered + [TagRule(len(products) + n, BRAND, n, b.brand, None, b.query) for n, b in enumerate(brands)]


def retag_in_database(store: Store, products: Sequence[ProductRule], brands: Sequence[BrandRule]) -> int:
    """Fill in missing brands and products from the queries, after clearing those an earlier retag
    filled in (query_tags); returns how many mentions' brand or product changed. When only some
    rules' queries changed since the last retag (tag_rules: same rules in the same order), only
    the mentions those rules' old tags or new matches touch are cleared and tagged again (a
    mention neither touches keeps what the unchanged rules gave it); else every mention, as
    when nothing changed (a repair: what was cleared since is filled in again)."""
    rules = tag_rules(products, brands)
    recorded = _recorded_rules(store)
    if not rules and not recorded and not store.query("SELECT 1 FROM query_tags LIMIT 1"):
        return 0
    changed = _changed(recorded, rules)
    indexed = index_complete(store)
    with store.transaction() as con:
        con.register("koubei_rules", _rules_table(rules))
        try:
            with read_postings(con, [r.query for r in rules], indexed) as postings:
                within = None if changed is None else _touched(con, [r for r in rules if r.rule in changed], postings)
                _untag(store, within)
                brands_rules = [r.rule for r in rules if r.kind == BRAND]
                match_rules(con, [_rule(r) for r in rules], postings, Scope(MISSING, within), texts_of=brands_rules)
            count = _tag(store, rules)
            _record(con, rules)
            con.execute("DROP TABLE IF EXISTS koubei_touched")
        finally:
            # no statement here: after a failed one the transaction refuses any until rolled back
            con.unregister("koubei_rules")
    return count


def _recorded_rules(store: Store) -> list[tuple[int, str, str, str | None, str]]:
    return [tuple(r) for r in store.query("SELECT rule, kind, brand, product, query FROM tag_rules ORDER BY rule")]


def _changed(recorded: Sequence[tuple[int, str, str, str | None, str]], rules: Sequence[TagRule]) -> set[int] | None:
    """The numbers of the rules whose query changed since the last retag; None when the rules
    themselves changed (added, removed, renamed, reordered), none was recorded or none changed:
    retag all."""
    if not recorded or [r[:4] for r in recorded] != [(r.rule, r.kind, r.brand, r.product) for r in rules]:
        return None
    changed = {rule.rule for rule, row in zip(rules, recorded, strict=True) if row[4] != rule.query.text}
    # nothing changed: all again, as a repair (a mention's brand cleared since is filled in again)
    return changed or None


def _rules_table(rules: Sequence[TagRule]) -> pa.Table:
    return pa.table(
        {
            "rule": pa.array([r.rule for r in rules], pa.int32()),
            "kind": pa.array([r.kind for r in rules], pa.string()),
            "rank": pa.array([r.rank for r in rules], pa.int32()),
            "brand": pa.array([r.brand for r in rules], pa.string()),
            "product": pa.array([r.product for r in rules], pa.string()),
        }
    )


def _rule(rule: TagRule) -> Rule:
    """The rule for matching: a brand rule applies where the brand is missing, a product rule where
    the brand is missing or its own."""
    if rule.kind == BRAND:
        return Rule(rule.rule, rule.query, Predicate("c.brand IS NULL"))
    return Rule(rule.rule, rule.query, Predicate("(c.brand IS NULL OR c.brand = ?)", [rule.brand]))


def _touched(con: duckdb.DuckDBPyConnection, changed: Sequence[TagRule], postings: str) -> str:
    """TEMP TABLE koubei_touched: the mentions a changed rule's old query tagged (query_tags
    holding its brand or product) or its new query matches; its name."""
    match_rules(con, [Rule(r.rule, r.query) for r in changed], postings, Scope())
    brands = [r.brand for r in changed if r.kind == BRAND]
    products = [r.product for r in changed if r.kind == PRODUCT]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_touched AS SELECT source, native_id FROM koubei_hits"
        " UNION SELECT source, native_id FROM query_tags WHERE list_contains(?, brand) OR list_contains(?, product)",
        [brands, products],
    )
    return "koubei_touched"


def _tag(store: Store, rules: Sequence[TagRule]) -> int:
    """From koubei_hits: each hit mention's brand and product as the rules decide them (a product
    first, else the brand matching with a word earliest in its text), written to mentions and
    query_tags; how many mentions' brand or product changed."""
    con = store.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_hit_mentions AS SELECT c.source, c.native_id, c.brand, c.product FROM"
        " (SELECT m.source, m.native_id, nullif(m.brand, '') AS brand, nullif(m.product, '') AS product"
        f" FROM mentions m SEMI JOIN {HITS} USING (source, native_id)) c WHERE {MISSING}"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_valid_hits AS SELECT h.source, h.native_id, r.kind, r.rank, r.brand,"
        f" r.product FROM {HITS} h JOIN koubei_rules r USING (rule) JOIN koubei_hit_mentions c USING (source, native_id)"
        f" WHERE (r.kind = '{PRODUCT}' AND (c.brand IS NULL OR c.brand = r.brand))"
        f" OR (r.kind = '{BRAND}' AND c.brand IS NULL)"
    )
    _first_at(con, [r for r in rules if r.kind == BRAND])
    tags = f"""
        WITH best_product AS (
            SELECT source, native_id, arg_min(brand, rank) AS brand, arg_min(product, rank) AS product
            FROM koubei_valid_hits WHERE kind = '{PRODUCT}' GROUP BY ALL),
        best_brand AS (
            SELECT h.source, h.native_id, arg_min(h.brand, row(coalesce(f.first_at, 0), h.rank)) AS brand
            FROM koubei_valid_hits h LEFT JOIN koubei_first_at f USING (source, native_id, rank)
            WHERE h.kind = '{BRAND}' GROUP BY ALL)
        SELECT c.source, c.native_id, coalesce(c.brand, bp.brand, bb.brand) AS brand,
               coalesce(c.product, bp.product) AS product, c.brand AS given_brand, c.product AS given_product
        FROM koubei_hit_mentions c LEFT JOIN best_product bp USING (source, native_id)
        LEFT JOIN best_brand bb USING (source, native_id)
        WHERE bp.brand IS NOT NULL OR bb.brand IS NOT NULL
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_new_tags AS SELECT source, native_id, brand, product,"
        " CASE WHEN given_brand IS NULL THEN brand END AS by_query_brand,"
        " CASE WHEN given_product IS NULL THEN product END AS by_query_product"
        f" FROM ({tags}) WHERE given_brand IS DISTINCT FROM brand OR given_product IS DISTINCT FROM product"
    )
    _update_mentions(store, "koubei_new_tags")
    con.execute(
        "INSERT INTO query_tags SELECT source, native_id, by_query_brand, by_query_product FROM koubei_new_tags"
    )
    changed = _count(
        con,
        "SELECT (SELECT count(*) FROM koubei_untagged u LEFT JOIN koubei_new_tags t USING (source, native_id)"
        " WHERE (u.brand, u.product) IS DISTINCT FROM"
        " (CASE WHEN t.source IS NULL THEN u.untagged_brand ELSE t.brand END,"
        " CASE WHEN t.source IS NULL THEN u.untagged_product ELSE t.product END))"
        " + (SELECT count(*) FROM koubei_new_tags t ANTI JOIN koubei_untagged u USING (source, native_id))",
        [],
    )
    for table in (
        "koubei_untagged",
        "koubei_new_tags",
        "koubei_hit_mentions",
        "koubei_valid_hits",
        "koubei_first_at",
        "koubei_texts",
        HITS,
    ):
        con.execute(f"DROP TABLE {table}")
    return changed


def _update_mentions(store: Store, tags: str) -> None:
    """The one place retag writes mentions' brand and product: from `tags` (source, native_id,
    brand, product)."""
    store.con.execute(
        f"UPDATE mentions SET brand = t.brand, product = t.product FROM {tags} t"
        " WHERE mentions.source = t.source AND mentions.native_id = t.native_id"
    )
    # the explorer filters by brand and product in search_docs: it follows what changed here
    follow_mentions(store, f"SELECT source, native_id FROM {tags}")


def _first_at(con: duckdb.DuckDBPyConnection, brands: Sequence[TagRule]) -> None:
    """TEMP TABLE koubei_first_at (source, native_id, rank, first_at): where each brand's first word
    occurs, for the mentions more than one brand matches (the only ones it decides), from their
    texts as the pass over texts kept them (koubei_texts: storage/rulematch.py)."""
    if not brands:  # no brand: no text kept, no position wanted
        con.execute("CREATE OR REPLACE TEMP TABLE koubei_texts (source VARCHAR, native_id VARCHAR, text VARCHAR)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_contested AS SELECT m.source, m.native_id, m.text FROM koubei_texts m"
        " SEMI JOIN (SELECT source, native_id FROM koubei_valid_hits"
        f" WHERE kind = '{BRAND}' GROUP BY ALL HAVING count(*) > 1) USING (source, native_id)"
    )
    # one join, each brand's position a branch of a CASE (evaluated on its own rows only)
    params: list[object] = []
    branches = " ".join(f"WHEN {rule.rank} THEN {_first_word_at(rule.query, params)}" for rule in brands)
    position = f"CASE h.rank {branches} END" if brands else "NULL::BIGINT"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE koubei_first_at AS SELECT h.source, h.native_id, h.rank, {position} AS first_at"
        f" FROM koubei_valid_hits h JOIN koubei_contested c USING (source, native_id) WHERE h.kind = '{BRAND}'",
        params,
    )
    con.execute("DROP TABLE koubei_contested")


def _record(con: duckdb.DuckDBPyConnection, rules: Sequence[TagRule]) -> None:
    """The rules query_tags was computed with, for the next retag to tell which changed."""
    con.execute("DELETE FROM tag_rules")
    if not rules:
        return
    con.executemany(
        "INSERT INTO tag_rules VALUES (?, ?, ?, ?, ?)",
        [[r.rule, r.kind, r.brand, r.product, r.query.text] for r in rules],
    )


def _untag(store: Store, within: str | None) -> None:
    """Clear the brands and products an earlier retag filled in from a query (of the mentions in the
    table `within` names, else of all), so the queries as configured now decide them again; a
    value changed since (by a person) is kept. TEMP TABLE koubei_untagged keeps each cleared
    mention's brand and product before and after."""
    con = store.con
    tagged = f"(SELECT * FROM query_tags SEMI JOIN {within} USING (source, native_id))" if within else "query_tags"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_untagged AS SELECT m.source, m.native_id, m.brand, m.product,"
        " CASE WHEN q.brand IS NOT NULL AND m.brand = q.brand THEN NULL ELSE m.brand END AS untagged_brand,"
        " CASE WHEN q.product IS NOT NULL AND m.product = q.product THEN NULL ELSE m.product END AS untagged_product"
        f" FROM mentions m JOIN {tagged} q USING (source, native_id)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_cleared AS SELECT source, native_id, untagged_brand AS brand,"
        " untagged_product AS product FROM koubei_untagged"
        " WHERE (brand, product) IS DISTINCT FROM (untagged_brand, untagged_product)"
    )
    _update_mentions(store, "koubei_cleared")
    con.execute("DROP TABLE koubei_cleared")
    if within:
        con.execute(f"DELETE FROM query_tags WHERE (source, native_id) IN (SELECT source, native_id FROM {within})")
    else:
        con.execute("DELETE FROM query_tags")


def _first_word_at(query: Query, params: list[object]) -> str:
    """SQL for where the first of the query's words occurs in c.text; its length when none does.
    A word with few spellings is found by instr (many times faster than a regular expression)."""
    found = []
    for word in dict.fromkeys(normalise(w) for w in query.words()):
        spellings = spellings_of(word)
        if spellings is not None:
            params += spellings
            found += ["nullif(instr(c.text, ?), 0) - 1" for _ in spellings]
        else:
            pattern = term_pattern(word)
            params += [f"(?s){pattern}", f"(?s)^(.*?)(?:{pattern})"]
            found.append("CASE WHEN regexp_matches(c.text, ?) THEN length(regexp_extract(c.text, ?, 1)) END")
    if not found:
        return "length(c.text)"
    return f"coalesce(least({', '.join(found)}), length(c.text))"


@dataclass(frozen=True)
class TopicRule:
    topic: str
    query: Query


TopicTag = tuple[str, str, str]  # source, native_id, topic


def store_topics(
    store: Store, keys: Sequence[tuple[str, str]], tags: Sequence[TopicTag], rules: Sequence[TopicRule]
) -> None:
    """At ingest: the topics of the mentions `keys` names are `tags` (computed in Python by
    koubei/topics.py). A topic whose query differs from the one its history was computed with
    loses that record, so the next `koubei retag` recomputes it over every mention."""
    if not keys:
        return
    con = store.con
    con.register(
        "koubei_topic_tags",
        pa.table({"source": [t[0] for t in tags], "native_id": [t[1] for t in tags], "topic": [t[2] for t in tags]}),
    )
    try:
        with store.transaction():
            # by key, not (source, native_id) IN (...): that scanned all of mention_topics per batch
            for part in slices(keys):
                con.execute(f"DELETE FROM mention_topics WHERE {BY_KEY}", key_params(part))
            con.execute("INSERT INTO mention_topics SELECT source, native_id, topic FROM koubei_topic_tags")
            for rule in rules:
                con.execute("DELETE FROM topic_queries WHERE topic = ? AND query <> ?", [rule.topic, rule.query.text])
    finally:
        con.unregister("koubei_topic_tags")


def retag_topics(store: Store, rules: Sequence[TopicRule]) -> int:
    """Recompute, in the database, the topics whose query changed since the last retag (or that are
    new), and forget the topics no longer configured; returns how many (mention, topic) tags were
    added or removed."""
    stored = dict(store.query("SELECT topic, query FROM topic_queries"))
    wanted = {rule.topic for rule in rules}
    indexed = index_complete(store)
    changed = 0
    with store.transaction() as con:
        names = list(wanted)
        unwanted = f"topic NOT IN ({', '.join('?' for _ in names)})" if names else "true"
        changed += _count(con, f"SELECT count(*) FROM mention_topics WHERE {unwanted}", names)
        con.execute(f"DELETE FROM mention_topics WHERE {unwanted}", names)
        con.execute(f"DELETE FROM topic_queries WHERE {unwanted}", names)
        recomputed = [rule for rule in rules if stored.get(rule.topic) != rule.query.text]
        if recomputed:
            # every recomputed topic at once: one read of the postings and of the candidates' texts
            rules_of = [Rule(n, rule.query) for n, rule in enumerate(recomputed)]
            with read_postings(con, [rule.query for rule in recomputed], indexed) as postings:
                match_rules(con, rules_of, postings, Scope())
            changed += sum(_recompute_topic(con, rule, n) for n, rule in enumerate(recomputed))
            con.execute(f"DROP TABLE {HITS}")
    return changed


def _recompute_topic(con: duckdb.DuckDBPyConnection, rule: TopicRule, number: int) -> int:
    """Replace one topic's tags with those its query gives now (koubei_hits' rule `number`); how
    many tags changed."""
    old = "(SELECT source, native_id FROM mention_topics WHERE topic = ?)"
    new = f"(SELECT source, native_id FROM {HITS} WHERE rule = ?)"
    changed = _count(
        con,
        f"SELECT (SELECT count(*) FROM ({new} EXCEPT {old})) + (SELECT count(*) FROM ({old} EXCEPT {new}))",
        [number, rule.topic, rule.topic, number],
    )
    con.execute("DELETE FROM mention_topics WHERE topic = ?", [rule.topic])
    con.execute(
        f"INSERT INTO mention_topics SELECT source, native_id, ? FROM {HITS} WHERE rule = ?", [rule.topic, number]
    )
    con.execute("DELETE FROM topic_queries WHERE topic = ?", [rule.topic])
    con.execute("INSERT INTO topic_queries VALUES (?, ?)", [rule.topic, rule.query.text])
    return changed


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object]) -> int:
    row = con.execute(sql, list(params)).fetchone()
    return int(row[0]) if row else 0
