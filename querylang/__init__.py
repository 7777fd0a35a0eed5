"""The watch-query language: what a brand, a product, a topic or a search is about.

`parse` reads a query into a tree (querylang/tree.py) or raises QueryError naming the column;
`Matcher` answers it over one text in Python (ingest); storage/predicates.py compiles the same tree
to a SQL predicate (retagging history and search run in the database). docs/queries.md is the
user's guide.
"""

from querylang.errors import QueryError
from querylang.match import Document, matches
from querylang.parse import parse
from querylang.tree import FIELDS, Field, Near, Node, Query, Term

__all__ = ["FIELDS", "Document", "Field", "Near", "Node", "Query", "QueryError", "Term", "matches", "parse"]
