"""Answering a query over one mention in Python, at ingest. storage/predicates.py answers the same
query in SQL; tests/querylang/test_match.py checks that both agree on random queries and texts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from querylang.tree import FIELDS, All, Any, Field, Near, Node, Not, Query, Term
from sentiment.text import to_simplified, traditional_pairs

_ASCII_UPPER = re.compile("[A-Z]+")


def normalise(text: str) -> str:
    """What queries compare: simplified Chinese, ASCII letters lower-cased (one character for one,
    so positions and NEAR distances are those of the original text)."""
    # a regular expression, not str.translate, which is slow over Chinese text (~130 us a review)
    return _ASCII_UPPER.sub(_lower, to_simplified(text))


def _lower(match: re.Match[str]) -> str:
    return match.group().lower()


@dataclass(frozen=True)
class Document:
    """A mention as a query sees it."""

    text: str
    source: str = ""
    language: str | None = None
    brand: str | None = None
    product: str | None = None

    @cached_property
    def normalised(self) -> str:
        return normalise(self.text)

    def field(self, column: str) -> str:
        return {"source": self.source, "language": self.language, "brand": self.brand, "product": self.product}[
            column
        ] or ""


def matches(query: Query, document: Document) -> bool:
    return _matches(query.root, document.normalised, document)


def _matches(node: Node, text: str, document: Document) -> bool:
    match node:
        case Term(word):
            return _normalised_word(word) in text
        case Field(name, value):
            return document.field(FIELDS[name]) == value
        case Near(left, right, distance):
            return (
                _near_pattern(_normalised_word(left.text), _normalised_word(right.text), distance).search(text)
                is not None
            )
        case Not(operand):
            return not _matches(operand, text, document)
        case All(operands):
            return all(_matches(o, text, document) for o in operands)
        case Any(operands):
            return any(_matches(o, text, document) for o in operands)
    raise TypeError(node)


@lru_cache(maxsize=4096)
def _normalised_word(word: str) -> str:
    return normalise(word)


@lru_cache(maxsize=256)
def _near_pattern(left: str, right: str, distance: int) -> re.Pattern[str]:
    gap = f".{{0,{distance}}}"
    a, b = re.escape(left), re.escape(right)
    return re.compile(f"{a}{gap}{b}|{b}{gap}{a}", re.DOTALL)


def variants() -> dict[str, str]:
    """Each character the normalised text can hold -> every character normalising to it, for
    matching in storage without normalising the stored text (storage/predicates.py)."""
    return _variants()


@lru_cache(maxsize=1)
def _variants() -> dict[str, str]:
    found: dict[str, str] = {}
    for upper in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        found[upper.lower()] = upper.lower() + upper
    for traditional, simplified in traditional_pairs():
        found[simplified] = found.get(simplified, simplified) + traditional
    return found
