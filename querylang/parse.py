"""The query grammar (lark, LALR) and its errors in words with the column."""

from __future__ import annotations

from functools import lru_cache

import lark
from lark import Lark, Token, Transformer, v_args

from querylang.errors import END, QueryError
from querylang.tree import FIELDS, All, Any, Field, Near, Node, Not, Query, Term

# Precedence, loosest first: OR, AND (also implicit between terms), NOT, NEAR.
GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND? not_expr)*
?not_expr: _NOT not_expr -> negation
         | atom
?atom: term
     | term NEAR term -> near
     | FIELD value -> field
     | "(" or_expr ")"
?value: term
term: WORD | PHRASE

_OR: "OR"
_AND: "AND"
_NOT: "NOT"
NEAR: /NEAR\/[0-9]+/
FIELD.2: /[A-Za-z_]+:/
PHRASE: /"[^"]*"/
WORD: /[^\s()"]+/

%import common.WS
%ignore WS
"""

MAX_NEAR = 1000  # RE2, which storage matches NEAR with, repeats at most 1000 times
_TERM_STARTS = {"WORD", "PHRASE", "LPAR", "_NOT", "FIELD"}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="basic", maybe_placeholders=False)


def parse(text: str) -> Query:
    """The query as a tree; QueryError saying what is wrong and at which column."""
    if not text.strip():
        raise QueryError("empty", text, 1)
    try:
        return Query(text, _ToTree(text).transform(_parser().parse(text)))
    except lark.exceptions.UnexpectedCharacters as error:
        raise _unexpected_character(text, error.column) from None
    except lark.exceptions.UnexpectedToken as error:
        raise _unexpected_token(text, error) from None
    except lark.exceptions.VisitError as error:
        if isinstance(error.orig_exc, QueryError):
            raise error.orig_exc from None
        raise


def _unexpected_character(text: str, column: int) -> QueryError:
    if text[column - 1] == '"':
        return QueryError("unclosed_quote", text, column)
    return QueryError("unexpected_character", text, column, char=repr(text[column - 1]))


def _unexpected_token(text: str, error: lark.exceptions.UnexpectedToken) -> QueryError:
    token: Token = error.token
    at_end = token.type == "$END"
    column = len(text.rstrip()) + 1 if at_end else int(token.column or 1)
    before = _token_before(text, column)
    found = END if at_end else repr(str(token))
    expected = {str(name) for name in error.expected}
    if expected & _TERM_STARTS and before is not None and before.type in {"_OR", "_AND", "_NOT", "FIELD", "LPAR"}:
        return QueryError("term_after", text, column, before=_shown(before), found=found)
    if before is not None and before.type == "NEAR":
        return QueryError("word_after_near", text, column, before=str(before), found=found)
    if token.type == "NEAR":
        return QueryError("near_needs_left", text, column, near=str(token))
    if token.type == "RPAR":
        return QueryError("unopened_paren", text, column)
    if "RPAR" in expected:
        return QueryError("unclosed_paren", text, column, found=found)
    if at_end:
        return QueryError("ends_early", text, column)
    return QueryError("unexpected", text, column, found=found, wanted=tuple(sorted(expected)))


def _token_before(text: str, column: int) -> Token | None:
    """The last token that starts before the column (the lexer is rerun: lark keeps no history)."""
    last = None
    try:
        for token in _parser().lex(text):
            if int(token.column or 0) >= column:
                break
            last = token
    except lark.exceptions.UnexpectedCharacters:
        pass
    return last


def _shown(token: Token) -> str:
    return "(" if token.type == "LPAR" else str(token)


@v_args(inline=True)
class _ToTree(Transformer[Token, Node]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def term(self, token: Token) -> Term:
        word = str(token)
        if token.type == "PHRASE":
            word = word[1:-1]
            if not word.strip():
                raise QueryError("empty_phrase", self.text, int(token.column or 1))
        return Term(word)

    def near(self, left: Term, near: Token, right: Term) -> Near:
        distance = int(str(near).removeprefix("NEAR/"))
        if not 0 < distance <= MAX_NEAR:
            raise QueryError("near_distance", self.text, int(near.column or 1), near=str(near), most=str(MAX_NEAR))
        return Near(left, right, distance)

    def field(self, name: Token, value: Term) -> Field:
        field = str(name)[:-1]
        if field not in FIELDS:
            known = ", ".join(f"{f}:" for f in FIELDS)
            raise QueryError("unknown_field", self.text, int(name.column or 1), field=field, known=known)
        return Field(field, value.text)

    def negation(self, operand: Node) -> Not:
        return Not(operand)

    def and_expr(self, *operands: Node) -> All:
        return All(operands)

    def or_expr(self, *operands: Node) -> Any:
        return Any(operands)
