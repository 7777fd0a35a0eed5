"""The collector interface: a source yields pages of mentions.

A collector is short: build requests, parse, yield `Page`s. The runner
(collectors/runner.py) stores each page, then saves the page's cursor, so a
cursor never runs ahead of what is stored. Sources register themselves by
subclassing `Collector` with a `name`; `registry()` finds them (snscrape's
pattern), so adding a source touches one module.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from koubei.records import Mention


@dataclass
class Page:
    mentions: list[Mention]
    # State to persist once this page is stored; None keeps the previous cursor.
    cursor: dict[str, Any] | None = None
    # Scope the cursor belongs to (a product id, a keyword); "" for the whole source.
    scope: str = ""
    # Where the page came from, for error messages and health.
    origin: str = ""


@dataclass
class SourceConfig:
    """One configured source instance: [sources.NAME] in koubei.toml."""

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


class Collector(ABC):
    name: ClassVar[str]

    def __init__(self, config: SourceConfig, cursors: dict[str, dict[str, Any]] | None = None) -> None:
        self.config = config
        self.options = config.options
        # Cursor state per scope as last stored; read-only for the collector.
        self.cursors = cursors or {}

    @property
    def source(self) -> str:
        """The `source` value of the mentions this instance yields."""
        return self.config.name

    @abstractmethod
    def pages(self) -> Iterator[Page]:
        """Fetch and parse, yielding one page of mentions at a time."""


def registry() -> dict[str, type[Collector]]:
    """Every collector class by its `name`, importing collectors/*.py once."""
    import collectors

    for module in pkgutil.iter_modules(collectors.__path__):
        if module.name not in {"base", "runner", "cli", "http"}:
            importlib.import_module(f"collectors.{module.name}")
    found: dict[str, type[Collector]] = {}
    stack: list[type[Collector]] = list(Collector.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if getattr(cls, "name", None):
            found[cls.name] = cls
    return found
