"""A malformed query, with the 1-based column where it goes wrong."""

from __future__ import annotations


class QueryError(ValueError):
    def __init__(self, message: str, query: str, column: int) -> None:
        self.message = message
        self.query = query
        self.column = column
        super().__init__(f"{message} at column {column}")

    def caret(self) -> str:
        """The query with a caret under the column it goes wrong at."""
        return f"{self.query}\n{' ' * (self.column - 1)}^"

    def explain(self) -> str:
        return f"{self}\n{self.caret()}"
