"""The SQL predicate (storage/predicates.py; as a WHERE condition and as a column) and the Python matcher give the same answer on random
queries and texts, traditional characters, case and regex metacharacters included."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from querylang import Document, matches, parse
from storage.predicates import column, predicate

# Simplified and traditional forms, Latin letters in both cases, regex metacharacters, space, and
# characters whose lower case is or holds an ASCII letter (the Kelvin sign K, dotted İ).
ALPHABET = "充电宝發电電烫燙声浪AaBbKkiİ\u212a.*[](|\\ "
SOURCES = ("weibo", "jd", "")


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE mentions (text VARCHAR, source VARCHAR, language VARCHAR, brand VARCHAR, product VARCHAR)"
    )
    yield connection
    connection.close()


words = st.text(alphabet=ALPHABET, min_size=1, max_size=3).filter(str.strip).map(lambda w: '"' + w + '"')


def queries() -> st.SearchStrategy[str]:
    atom = st.one_of(
        words,
        st.builds(lambda a, n, b: f"{a} NEAR/{n} {b}", words, st.integers(1, 4), words),
        st.sampled_from(SOURCES[:2]).map(lambda s: f"source:{s}"),
        st.sampled_from(("en", "zh")).map(lambda s: f"lang:{s}"),
    )
    return st.recursive(
        atom,
        lambda inner: st.one_of(
            st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
            st.builds(lambda a, b: f"({a} {b})", inner, inner),
            inner.map(lambda a: f"NOT {a}"),
        ),
        max_leaves=6,
    )


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=queries(),
    text=st.text(alphabet=ALPHABET + "\n", max_size=12),
    source=st.sampled_from(SOURCES),
    language=st.sampled_from(("en", "zh", None)),
)
def test_sql_predicate_and_python_matcher_agree(
    con: duckdb.DuckDBPyConnection, query: str, text: str, source: str, language: str | None
) -> None:
    parsed = parse(query)
    expected = matches(parsed, Document(text, source, language))
    for compiled in (predicate(parsed), column(parsed)):  # as a WHERE condition and as a CASE column
        in_sql = con.execute(
            f"SELECT {compiled.sql} FROM (SELECT ? AS text, ? AS source, ? AS language, NULL AS brand, NULL AS product)",
            [*compiled.params, text, source, language],
        ).fetchone()
        assert in_sql is not None
        assert bool(in_sql[0]) == expected, compiled.sql
