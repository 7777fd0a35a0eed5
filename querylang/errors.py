"""A malformed query, with the 1-based column where it goes wrong."""

from __future__ import annotations

import unicodedata


class QueryError(ValueError):
    def __init__(self, message: str, query: str, column: int) -> None:
        self.message = message
        self.query = query
        self.column = column
        super().__init__(f"{message} at column {column}")

    def caret(self) -> str:
        """The query with a caret under the column it goes wrong at (a Chinese character is two
        columns wide in a terminal)."""
        before = self.query[: self.column - 1]
        width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in before)
        return f"{self.query}\n{' ' * width}^"

    def explain(self) -> str:
        return f"{self}\n{self.caret()}"
