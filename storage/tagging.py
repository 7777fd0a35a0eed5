"""Filling in the brand and product of stored mentions from the configured watch queries, in one
SQL statement (`koubei retag`). koubei/brands.py decides the same for one mention at ingest; the
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
from storage.predicates import predicate, spellings_of, term_pattern
from storage.textindex import candidates, index_complete


@dataclass(frozen=True)
class ProductRule:
    product: str
    brand: str
    query: Query


@dataclass(frozen=True)
class BrandRule:
    brand: str
    query: Query


def retag_in_database(store: Store, products: Sequence[ProductRule], brands: Sequence[BrandRule]) -> int:
    """Fill in missing brands and products from the queries, after clearing those an earlier retag
    filled in (query_tags); returns how many mentions' query-given brand or product changed."""
    if not products and not brands and not store.query("SELECT 1 FROM query_tags LIMIT 1"):
        return 0
    params: list[object] = []
    indexed = index_complete(store)
    product_hits = _product_hits(products, params, indexed)
    brand_hits = _brand_hits(brands, params, indexed)
    # in the order the statement uses their parameters
    product_brand = _by_rank("bp.rank", [p.brand for p in products], params)
    brand_name = _by_rank("bb.rank", [b.brand for b in brands], params)
    product_name = _by_rank("bp.rank", [p.product for p in products], params)
    tags = f"""
        WITH candidates AS (
            SELECT source, native_id, text, language, nullif(brand, '') AS brand, nullif(product, '') AS product,
                   {"d.doc" if indexed else "NULL::BIGINT AS doc"}
            FROM mentions {"JOIN search_docs d USING (source, native_id)" if indexed else ""}
            WHERE brand IS NULL OR product IS NULL
        ),
        product_hits AS ({product_hits}),
        best_product AS (SELECT source, native_id, min(rank) AS rank FROM product_hits GROUP BY ALL),
        brand_hits AS ({brand_hits}),
        best_brand AS (SELECT source, native_id, arg_min(rank, row(first_at, rank)) AS rank FROM brand_hits GROUP BY ALL)
        SELECT c.source, c.native_id,
               coalesce(c.brand, {product_brand}, {brand_name}) AS brand,
               coalesce(c.product, {product_name}) AS product
        FROM candidates c
        LEFT JOIN best_product bp USING (source, native_id)
        LEFT JOIN best_brand bb USING (source, native_id)
    """
    with store.transaction() as con:
        con.execute("CREATE OR REPLACE TEMP TABLE koubei_old_tags AS SELECT * FROM query_tags")
        _untag(con)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE koubei_new_tags AS SELECT t.source, t.native_id, t.brand, t.product,"
            " CASE WHEN c.brand IS NULL THEN t.brand END AS by_query_brand,"
            " CASE WHEN c.product IS NULL THEN t.product END AS by_query_product"
            f" FROM ({tags}) AS t JOIN mentions c USING (source, native_id)"
            " WHERE c.brand IS DISTINCT FROM t.brand OR c.product IS DISTINCT FROM t.product",
            params,
        )
        con.execute(
            "UPDATE mentions SET brand = t.brand, product = t.product FROM koubei_new_tags t"
            " WHERE mentions.source = t.source AND mentions.native_id = t.native_id"
        )
        con.execute(
            "INSERT INTO query_tags SELECT source, native_id, by_query_brand, by_query_product FROM koubei_new_tags"
        )
        changed = _count(
            con,
            "SELECT count(DISTINCT (source, native_id)) FROM ((SELECT * FROM koubei_old_tags EXCEPT SELECT * FROM"
            " query_tags) UNION ALL (SELECT * FROM query_tags EXCEPT SELECT * FROM koubei_old_tags))",
            [],
        )
        con.execute("DROP TABLE koubei_old_tags")
        con.execute("DROP TABLE koubei_new_tags")
    return changed


def _untag(con: duckdb.DuckDBPyConnection) -> None:
    """Clear the brands and products an earlier retag filled in from a query, so the queries as
    configured now decide them again; a value changed since (by a person) is kept."""
    con.execute(
        "UPDATE mentions SET"
        " brand = CASE WHEN q.brand IS NOT NULL AND mentions.brand = q.brand THEN NULL ELSE mentions.brand END,"
        " product = CASE WHEN q.product IS NOT NULL AND mentions.product = q.product THEN NULL"
        " ELSE mentions.product END"
        " FROM query_tags q WHERE mentions.source = q.source AND mentions.native_id = q.native_id"
    )
    con.execute("DELETE FROM query_tags")


def _narrowed(query: Query, params: list[object], indexed: bool) -> str:
    """A condition keeping the mentions the full-text index lists as the query's candidates (the
    predicate then runs on those alone); empty without the index or when it cannot narrow."""
    found = candidates(query) if indexed else None
    if found is None:
        return ""
    params += found[1]
    return f" AND c.doc IN ({found[0]})"


def _product_hits(products: Sequence[ProductRule], params: list[object], indexed: bool) -> str:
    parts = []
    for rank, rule in enumerate(products):
        matched = predicate(rule.query, alias="c")
        params += [rule.brand, *matched.params]
        narrowed = _narrowed(rule.query, params, indexed)
        parts.append(
            f"SELECT source, native_id, {rank} AS rank FROM candidates c"
            f" WHERE (c.brand IS NULL OR c.brand = ?) AND {matched.sql}{narrowed}"
        )
    return " UNION ALL ".join(parts) or "SELECT NULL AS source, NULL AS native_id, NULL::INTEGER AS rank WHERE false"


def _brand_hits(brands: Sequence[BrandRule], params: list[object], indexed: bool) -> str:
    parts = []
    for rank, rule in enumerate(brands):
        at = _first_word_at(rule.query, params)
        matched = predicate(rule.query, alias="c")
        params += matched.params
        narrowed = _narrowed(rule.query, params, indexed)
        parts.append(
            f"SELECT source, native_id, {at} AS first_at, {rank} AS rank FROM candidates c"
            f" WHERE c.brand IS NULL AND {matched.sql}{narrowed}"
        )
    return (
        " UNION ALL ".join(parts)
        or "SELECT NULL AS source, NULL AS native_id, NULL::BIGINT AS first_at, NULL::INTEGER AS rank WHERE false"
    )


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


def _by_rank(rank: str, names: Sequence[str], params: list[object]) -> str:
    """SQL for the name at a rank."""
    if not names:
        return "NULL"
    params += [value for n, name in enumerate(names) for value in (n, name)]
    return f"CASE {rank} " + " ".join("WHEN ? THEN ?" for _ in names) + " END"


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
        for rule in rules:
            if stored.get(rule.topic) != rule.query.text:
                changed += _recompute_topic(con, rule, indexed)
    return changed


def _recompute_topic(con: duckdb.DuckDBPyConnection, rule: TopicRule, indexed: bool) -> int:
    """Replace one topic's tags with those its query gives now; how many tags changed."""
    matched = predicate(rule.query, alias="c")
    params: list[object] = [rule.topic]
    found = candidates(rule.query) if indexed else None
    scope = "mentions"
    if found is not None:
        # only the mentions the index lists as candidates are read and matched
        scope = (
            "(SELECT * FROM mentions WHERE (source, native_id) IN"
            f" (SELECT source, native_id FROM search_docs WHERE doc IN ({found[0]})))"
        )
        params += found[1]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_topic_new AS"
        f" SELECT c.source, c.native_id, ?::VARCHAR AS topic FROM {scope} c WHERE {matched.sql}",
        [*params, *matched.params],
    )
    old = "(SELECT source, native_id FROM mention_topics WHERE topic = ?)"
    new = "(SELECT source, native_id FROM koubei_topic_new)"
    changed = _count(
        con,
        f"SELECT (SELECT count(*) FROM ({new} EXCEPT {old})) + (SELECT count(*) FROM ({old} EXCEPT {new}))",
        [rule.topic, rule.topic],
    )
    con.execute("DELETE FROM mention_topics WHERE topic = ?", [rule.topic])
    con.execute("INSERT INTO mention_topics SELECT source, native_id, topic FROM koubei_topic_new")
    con.execute("DROP TABLE koubei_topic_new")
    con.execute("DELETE FROM topic_queries WHERE topic = ?", [rule.topic])
    con.execute("INSERT INTO topic_queries VALUES (?, ?)", [rule.topic, rule.query.text])
    return changed


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object]) -> int:
    row = con.execute(sql, list(params)).fetchone()
    return int(row[0]) if row else 0
