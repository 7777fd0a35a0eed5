"""A parsed query: terms, field filters, NEAR, and the boolean operators over them."""

from __future__ import annotations

from dataclasses import dataclass

# field name -> the mentions column it filters on
FIELDS = {"source": "source", "lang": "language", "brand": "brand", "product": "product"}


@dataclass(frozen=True)
class Term:
    """A word or a "quoted phrase": matches where the text contains it (simplified, ASCII letters lower-cased)."""

    text: str


@dataclass(frozen=True)
class Field:
    """source:weibo: the mention's field equals the value."""

    name: str
    value: str


@dataclass(frozen=True)
class Near:
    """A NEAR/n B: an A and a B at most n characters apart, in either order."""

    left: Term
    right: Term
    distance: int


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class All:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Any:
    operands: tuple[Node, ...]


Node = Term | Field | Near | Not | All | Any


@dataclass(frozen=True)
class Query:
    text: str  # as written
    root: Node

    def words(self) -> tuple[str, ...]:
        """The terms the query looks for (not those under NOT), in order of appearance."""
        return tuple(dict.fromkeys(_words(self.root)))

    def every_word(self) -> tuple[str, ...]:
        """Every term of the query, those under NOT too (the postings a search reads)."""
        return tuple(dict.fromkeys(_words(self.root, negated=True)))


def _words(node: Node, negated: bool = False) -> list[str]:
    match node:
        case Term(text):
            return [text]
        case Near(left, right, _):
            return [left.text, right.text]
        case Not(operand) if negated:
            return _words(operand, negated)
        case All(operands) | Any(operands):
            return [w for operand in operands for w in _words(operand, negated)]
        case _:
            return []
