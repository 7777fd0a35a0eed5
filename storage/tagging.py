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
from storage.textindex import candidates, follow_mentions, index_complete


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
    filled in (query_tags); returns how many mentions' brand or product changed."""
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
        WITH product_hits AS ({product_hits}),
        best_product AS (SELECT source, native_id, min(rank) AS rank FROM product_hits GROUP BY ALL),
        brand_hits AS ({brand_hits}),
        best_brand AS (SELECT source, native_id, arg_min(rank, row(first_at, rank)) AS rank FROM brand_hits GROUP BY ALL),
        hit AS (SELECT source, native_id FROM best_product UNION SELECT source, native_id FROM best_brand)
        SELECT c.source, c.native_id,
               coalesce(c.brand, {product_brand}, {brand_name}) AS brand,
               coalesce(c.product, {product_name}) AS product,
               c.brand AS given_brand, c.product AS given_product
        FROM hit JOIN koubei_candidates c USING (source, native_id)
        LEFT JOIN best_product bp USING (source, native_id)
        LEFT JOIN best_brand bb USING (source, native_id)
    """
    with store.transaction() as con:
        _untag(con)
        _read_candidates(con, [*(p.query for p in products), *(b.query for b in brands)], indexed)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE koubei_new_tags AS SELECT source, native_id, brand, product,"
            " CASE WHEN given_brand IS NULL THEN brand END AS by_query_brand,"
            " CASE WHEN given_product IS NULL THEN product END AS by_query_product"
            f" FROM ({tags}) WHERE given_brand IS DISTINCT FROM brand OR given_product IS DISTINCT FROM product",
            params,
        )
        con.execute(
            "UPDATE mentions SET brand = t.brand, product = t.product FROM koubei_new_tags t"
            " WHERE mentions.source = t.source AND mentions.native_id = t.native_id"
        )
        # the explorer filters by brand and product in search_docs: it follows what changed here
        follow_mentions(
            store, "SELECT source, native_id FROM koubei_untagged UNION SELECT source, native_id FROM koubei_new_tags"
        )
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
        for table in ("koubei_untagged", "koubei_new_tags", "koubei_candidates"):
            con.execute(f"DROP TABLE {table}")
    return changed


def _read_candidates(con: duckdb.DuckDBPyConnection, queries: Sequence[Query], indexed: bool) -> None:
    """TEMP TABLE koubei_candidates: the mentions missing a brand or product that a query can match
    (the union of the queries' candidates in the full-text index; without it, or when a query cannot
    be narrowed, every such mention), read once for every query to match (a CTE read by each query
    joined mentions to search_docs each time: 156 s at 10,000,000 mentions)."""
    found = [candidates(query) for query in queries] if indexed else [None]
    columns = (
        "m.source, m.native_id, m.text, m.language, nullif(m.brand, '') AS brand, nullif(m.product, '') AS product"
    )
    missing = "(m.brand IS NULL OR m.product IS NULL)"
    narrowed = [f for f in found if f is not None]
    if not found or len(narrowed) < len(found):
        joined = (
            ", d.doc FROM mentions m JOIN search_docs d USING (source, native_id)"
            if indexed
            else ", NULL::BIGINT AS doc FROM mentions m"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE koubei_candidates AS SELECT {columns}{joined} WHERE {missing}")
        return
    docs = " UNION ".join(f"({sql})" for sql, _ in narrowed)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE koubei_candidates AS SELECT {columns}, d.doc FROM mentions m"
        f" JOIN (SELECT doc, source, native_id FROM search_docs WHERE doc IN ({docs})) d USING (source, native_id)"
        f" WHERE {missing}",
        [param for _, params in narrowed for param in params],
    )


def _untag(con: duckdb.DuckDBPyConnection) -> None:
    """Clear the brands and products an earlier retag filled in from a query, so the queries as
    configured now decide them again; a value changed since (by a person) is kept. TEMP TABLE
    koubei_untagged keeps each cleared mention's brand and product before and after."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE koubei_untagged AS SELECT m.source, m.native_id, m.brand, m.product,"
        " CASE WHEN q.brand IS NOT NULL AND m.brand = q.brand THEN NULL ELSE m.brand END AS untagged_brand,"
        " CASE WHEN q.product IS NOT NULL AND m.product = q.product THEN NULL ELSE m.product END AS untagged_product"
        " FROM mentions m JOIN query_tags q USING (source, native_id)"
    )
    con.execute(
        "UPDATE mentions SET brand = u.untagged_brand, product = u.untagged_product FROM koubei_untagged u"
        " WHERE mentions.source = u.source AND mentions.native_id = u.native_id"
        " AND (u.brand, u.product) IS DISTINCT FROM (u.untagged_brand, u.untagged_product)"
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
            f"SELECT source, native_id, {rank} AS rank FROM koubei_candidates c"
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
            f"SELECT source, native_id, {at} AS first_at, {rank} AS rank FROM koubei_candidates c"
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
