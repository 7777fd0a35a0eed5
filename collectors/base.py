"""The collector interface: a source is one module in collectors/sources/.

A source module defines a `Collector` subclass whose `name` is its kind in
koubei.toml; `registry()` finds every such class there (snscrape's pattern), so
adding a source adds that module, its fixture and its test, and nothing here.
A collector builds requests, parses and yields `Page`s; the runner
(collectors/runner.py) stores each page, then saves the page's cursor, so a
cursor never runs ahead of what is stored. Sources that page through a site
newest first build on `HttpCollector` (collectors/paging.py), and say with a
`Demo` how `koubei demo-sources` serves them from the saved responses.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from collectors.items import ItemError
from collectors.options import SourceOptions
from collectors.text import from_origin
from koubei.records import Mention
from storage.cursors import CursorState

State = TypeVar("State", bound=CursorState)


@dataclass
class Page:
    mentions: list[Mention]
    # State to persist once this page is stored; None keeps the previous cursor.
    cursor: CursorState | None = None
    # Scope the cursor belongs to (a product id, a keyword); "" for the whole source.
    scope: str = ""
    # Items of the page that were skipped, each with what was wrong (collectors/items.py).
    item_errors: list[ItemError] = field(default_factory=list)


@dataclass
class SourceConfig:
    """One configured source instance: [sources.NAME] in koubei.toml, read by its kind's options."""

    name: str
    kind: str
    options: SourceOptions = field(default_factory=SourceOptions)


@dataclass(frozen=True)
class ParseContext:
    """What a parser knows besides the body: whose mentions these are and where the body came from."""

    source: str
    brand: str | None = None
    product: str | None = None
    origin: str = ""  # the URL or file the body came from, named in errors
    # The fetch time: relative times ("15分钟前") resolve against it, undated items take it.
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    options: Mapping[str, Any] = field(default_factory=dict)  # a source's own: selectors, match, cc
    # Where the parser reports the items it skipped (collectors/items.py).
    errors: list[ItemError] = field(default_factory=list, compare=False)

    @property
    def at(self) -> str:
        """' from ORIGIN' for an error message, '' when the origin is unknown."""
        return from_origin(self.origin)

    @classmethod
    def of(cls, source: str, context: Mapping[str, Any]) -> ParseContext:
        """From keyword arguments: source, brand, product, origin, now and errors (a list that gets
        the items skipped); any other is an option."""
        known = {"source", "brand", "product", "origin", "now", "errors"}
        given = {k: v for k, v in context.items() if k in known and v is not None}
        options = {k: v for k, v in context.items() if k not in known}
        return cls(**{"source": source, **given, "options": options})


class Collector(ABC, Generic[State]):
    name: ClassVar[str]  # the kind, in koubei.toml
    options_type: ClassVar[type[SourceOptions]] = SourceOptions  # the keys its [sources.NAME] table takes
    cursor_type: type[State]  # the record its cursors are stored as
    # The mentions in one saved response, without the network (`koubei parse`): every
    # HttpCollector has it; None for a source that reads no responses (the demo stream).
    parse: ClassVar[Callable[..., list[Mention]] | None] = None
    demo: ClassVar[Demo | None] = None  # how `koubei demo-sources` serves it

    def __init__(self, config: SourceConfig, cursors: Mapping[str, State] | None = None) -> None:
        self.config = config
        self.options: SourceOptions = config.options
        # Cursor state per scope as last stored; read-only for the collector.
        self.cursors: Mapping[str, State] = cursors or {}
        # Set to ask for an end at the next safe point (`koubei watch` on SIGTERM): the runner
        # stops after the page under way, and a source's waits (rate limit, backoff, Retry-After)
        # end at once with Stopped.
        self.stop = threading.Event()

    @property
    def source(self) -> str:
        """The `source` value of the mentions this instance yields."""
        return self.config.name

    @abstractmethod
    def pages(self) -> Iterator[Page]:
        """Fetch and parse, yielding one page of mentions at a time."""


def registry() -> dict[str, type[Collector[Any]]]:
    """Every source kind by its name: the Collector classes defined in collectors/sources/*.py."""
    import collectors.sources

    found: dict[str, type[Collector[Any]]] = {}
    for info in pkgutil.iter_modules(collectors.sources.__path__):
        module = importlib.import_module(f"collectors.sources.{info.name}")
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, Collector)):
                continue
            if value.__module__ != module.__name__ or inspect.isabstract(value):
                continue  # imported from elsewhere, or a base for sources
            if value.name in found:
                raise TypeError(f"two sources are named {value.name!r}: {found[value.name]} and {value}")
            found[value.name] = value
    return dict(sorted(found.items()))


# ---------------------------------------------------------------- the demo server's view of a source

Reply = tuple[int, str, bytes]  # HTTP status, content type, body


class DemoFixtures(Protocol):
    """What a pager makes pages from: the saved responses and times in the recent past."""

    @property
    def pages(self) -> int:
        """Pages to serve per target."""

    def json(self, name: str) -> Any:
        """A fresh copy of a JSON fixture, free to change."""

    def text(self, name: str) -> str:
        """A text fixture (HTML, XML)."""

    def when(self, page: int, index: int, per_page: int) -> datetime:
        """When the index-th item of a page (page 0 the newest) was published."""


# Answers one request; params are the query string's and the route's named groups.
Pager = Callable[[DemoFixtures, dict[str, str]], Reply]


@dataclass(frozen=True)
class DemoPlace:
    """Where the demo server serves a source, and the brands the demo attributes mentions to."""

    base: str  # the URL its routes are under: http://127.0.0.1:PORT/KIND
    brand: str  # the first configured brand
    other_brand: str  # the last one, so that the demo shows two
    product: str  # the first brand's first product


@dataclass(frozen=True)
class Demo:
    """How `koubei demo-sources` serves a source from ../shared/fixtures/sources: pages made
    from a saved response with ids unique per page and recent times."""

    fixtures: tuple[str, ...]  # the files its pages are made from
    routes: Mapping[str, Pager]  # path under /KIND (a regex; named groups become params) -> pager
    table: Callable[[DemoPlace], dict[str, Any]]  # the [sources.KIND] keys that point the source here
    per_page: tuple[int, ...]  # mentions on each page served, one number per target of `table`
    paged: bool = True  # False: one page per target, whatever the server's page count


def json_reply(data: Any) -> Reply:
    return 200, "application/json; charset=utf-8", json.dumps(data, ensure_ascii=False).encode("utf-8")
