"""The watch-query grammar: what parses to what, and errors that say what is wrong and where."""

from __future__ import annotations

import pytest

from querylang import Document, Field, Near, QueryError, Term, matches, parse
from querylang.tree import All, Any, Not


def test_terms_next_to_each_other_are_anded_and_and_binds_tighter_than_or() -> None:
    assert parse("充电宝 发烫").root == All((Term("充电宝"), Term("发烫")))
    assert parse("a OR b AND NOT c").root == Any((Term("a"), All((Term("b"), Not(Term("c"))))))
    assert parse('(退款 OR "不给退") source:weibo').root == All(
        (Any((Term("退款"), Term("不给退"))), Field("source", "weibo"))
    )


def test_near_and_fields() -> None:
    assert parse("充电宝 NEAR/5 发烫").root == Near(Term("充电宝"), Term("发烫"), 5)
    assert parse('lang:en product:"声浪 X1"').root == All((Field("lang", "en"), Field("product", "声浪 X1")))


def test_operators_are_upper_case_words_only() -> None:
    assert parse("ORANGE and ANDROID").root == All((Term("ORANGE"), Term("and"), Term("ANDROID")))


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("充电宝 AND NOT", "expected a term after NOT", 12),
        ("a OR OR b", "expected a term after OR, found 'OR'", 6),
        ("(a OR b", "expected ) to close a parenthesis", 8),
        ("a )", ") without a ( before it", 3),
        ('发烫 "充电', "the quote is not closed", 4),
        ("colour:red", "unknown field colour:", 1),
        ("NEAR/3 a", "NEAR/3 needs a word or phrase on its left", 1),
        ("a NEAR/3 (b)", "expected a word or phrase after NEAR/3", 10),
        ("a NEAR/0 b", "the distance must be from 1 to 1000", 3),
        ('a ""', "the quoted phrase is empty", 3),
        ("   ", "the query is empty", 1),
    ],
)
def test_errors_name_what_is_wrong_and_the_column(query: str, message: str, column: int) -> None:
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert message in raised.value.message
    assert raised.value.column == column
    assert str(raised.value).endswith(f"at column {column}")
    assert raised.value.caret().splitlines()[0] == query
    assert raised.value.caret().splitlines()[1].endswith("^")


def test_the_caret_counts_chinese_characters_two_columns_wide() -> None:
    with pytest.raises(QueryError) as raised:
        parse("充电宝 AND NOT")
    assert raised.value.caret() == "充电宝 AND NOT\n" + " " * 14 + "^"


def test_traditional_and_simplified_match_each_other_both_ways() -> None:
    assert matches(parse("充电宝 发烫"), Document("充電寶用了兩天就發燙"))
    assert matches(parse("充電寶"), Document("声浪充电宝"))
    assert matches(parse("sonicwave"), Document("SonicWave P20"))
    assert not matches(parse("充电宝 NOT 发烫"), Document("充電寶發燙"))


def test_near_counts_characters_between_in_either_order() -> None:
    query = parse("充电宝 NEAR/3 发烫")
    assert matches(query, Document("发烫的充电宝"))
    assert matches(query, Document("充电宝用了就发烫"))  # 3 characters between
    assert not matches(query, Document("充电宝用了两天就发烫"))


def test_words_lists_what_is_looked_for_but_not_what_is_excluded() -> None:
    assert parse("声浪 OR (SonicWave NOT 鲜到家) OR a NEAR/2 b").words() == ("声浪", "SonicWave", "a", "b")
