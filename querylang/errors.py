"""A malformed query, with the 1-based column where it goes wrong.

The error is a code with its parameters, worded here in English (the CLI, koubei.toml's checks);
the dashboard words the same code in the reader's language (dashboard/strings.py, `query.*`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

# What each error code says; {found} is a token as typed or the end of the query, {wanted} the
# grammar's terminals that would have fitted.
MESSAGES: dict[str, str] = {
    "empty": "the query is empty",
    "unclosed_quote": 'the quote is not closed: expected a closing "',
    "unexpected_character": "unexpected character {char}",
    "term_after": "expected a term after {before}, found {found}",
    "word_after_near": "expected a word or phrase after {before}, found {found}",
    "near_needs_left": "{near} needs a word or phrase on its left",
    "unopened_paren": ") without a ( before it",
    "unclosed_paren": "expected ) to close a parenthesis, found {found}",
    "ends_early": "the query ends too early",
    "unexpected": "unexpected {found}: expected {wanted}",
    "empty_phrase": "the quoted phrase is empty",
    "near_distance": "{near}: the distance must be from 1 to {most} characters",
    "unknown_field": "unknown field {field}: (known: {known})",
}
# The grammar's terminals as a reader knows them ("$END": the end of the query).
TERMINALS: dict[str, str] = {
    "_OR": "OR",
    "_AND": "AND",
    "_NOT": "NOT",
    "NEAR": "NEAR/n",
    "FIELD": "a field such as source:",
    "PHRASE": "a term",
    "WORD": "a term",
    "LPAR": "(",
    "RPAR": ")",
    "$END": "the end of the query",
}
END = "$END"  # `found` when the query ended where more was expected


class QueryError(ValueError):
    def __init__(self, code: str, query: str, column: int, **params: str | tuple[str, ...]) -> None:
        self.code = code
        self.query = query
        self.column = column
        self.params = params
        self.message = self.worded(MESSAGES, TERMINALS)
        super().__init__(f"{self.message} at column {column}")

    def worded(self, messages: Mapping[str, str], terminals: Mapping[str, str], separator: str = " or ") -> str:
        """The error in the words of `messages` (by code) and `terminals` (by grammar name)."""
        shown: dict[str, str] = {}
        for name, value in self.params.items():
            if isinstance(value, tuple):  # terminals that would have fitted
                shown[name] = separator.join(sorted({terminals.get(v, v) for v in value}))
            else:
                shown[name] = terminals[END] if value == END else value
        return messages[self.code].format(**shown)

    def caret(self) -> str:
        """The query with a caret under the column it goes wrong at (a Chinese character is two
        columns wide in a terminal)."""
        before = self.query[: self.column - 1]
        width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in before)
        return f"{self.query}\n{' ' * width}^"

    def explain(self) -> str:
        return f"{self}\n{self.caret()}"
