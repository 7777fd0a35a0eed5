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
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from koubei.errors import CollectorError, ConfigError
from koubei.records import Mention

if TYPE_CHECKING:
    from collectors.http import HttpClient, Response


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
        if module.name not in {"base", "runner", "cli", "http", "text", "demo_server"}:
            importlib.import_module(f"collectors.{module.name}")
    found: dict[str, type[Collector]] = {}
    stack: list[type[Collector]] = list(Collector.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if getattr(cls, "name", None):
            found[cls.name] = cls
    return found


# ---------------------------------------------------------------- HTTP sources


@dataclass
class Target:
    """One thing a source watches: a product id, a keyword, an app, a feed URL.

    In koubei.toml a target is a string, or a table {id = "...", brand = "...",
    product = "..."} that overrides the source's brand and product.
    """

    value: str
    brand: str | None = None
    product: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        return self.value


@dataclass
class Fetched:
    """One fetched and parsed page; `next` is the token for the next page, None at the end."""

    mentions: list[Mention]
    next: Any = None
    origin: str = ""
    # A source that drops items it already stored (to spare a request) says so here,
    # so that paging still stops at known items.
    dropped_known: bool = False


MAX_GAPS = 10


class HttpCollector(Collector):
    """A source that pages through a site newest first, per target.

    Incremental rule (dlt's `incremental`, STYLE.md 4): the cursor of a target
    holds the newest `published_at` stored so far (and the ids at that time).
    A run pages from the newest end and stops after the first page that reaches
    a known item, or at `max_pages`. The high-water mark moves only when the
    walk ends; pages stored before a crash carry the *old* mark, so a rerun
    walks over them again (the merge absorbs them) and never skips a gap.
    A walk stopped by `max_pages` before it reached the old mark leaves a gap
    (after a burst or an outage); the cursor keeps where it stopped, and each run
    then walks up to `max_pages` more pages into the gap until it is closed.
    """

    target_key: ClassVar[str] = ""  # the option that lists targets: "skus", "keywords", ...
    default_base_url: ClassVar[str] = ""
    default_max_pages: ClassVar[int] = 10

    def __init__(self, config: SourceConfig, cursors: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(config, cursors)
        self._http: HttpClient | None = None

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            from collectors.http import HttpClient, HttpOptions

            self._http = HttpClient(self.source, HttpOptions.from_options(self.source, self.options))
        return self._http

    @property
    def base_url(self) -> str:
        return str(self.options.get("base_url") or self.default_base_url).rstrip("/")

    @property
    def max_pages(self) -> int:
        return int(self.options.get("max_pages", self.default_max_pages))

    def targets(self) -> list[Target]:
        raw = self.options.get(self.target_key, [])
        if isinstance(raw, (str, int)):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise ConfigError(f"[sources.{self.source}] needs {self.target_key} = [...] (kind {self.name})")
        found = []
        for entry in raw:
            if isinstance(entry, dict):
                if "id" not in entry:
                    raise ConfigError(f"[sources.{self.source}] each table in {self.target_key} needs an id")
                extra = {k: v for k, v in entry.items() if k not in ("id", "brand", "product")}
                found.append(
                    Target(
                        str(entry["id"]),
                        entry.get("brand", self.options.get("brand")),
                        entry.get("product", self.options.get("product")),
                        extra,
                    )
                )
            else:
                found.append(Target(str(entry), self.options.get("brand"), self.options.get("product")))
        return found

    def get(self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
        return self.http.get(url, params=params, headers=headers)

    @abstractmethod
    def fetch(self, target: Target, token: Any) -> Fetched:
        """Fetch and parse one page of `target`; token None means the first (newest) page."""

    def pages(self) -> Iterator[Page]:
        failures: list[CollectorError] = []
        try:
            for target in self.targets():
                try:
                    yield from self._walk(target)
                except CollectorError as exc:
                    # One target failing (a removed product, a blocked keyword) must not
                    # stop the others; the source still reports the failure at the end.
                    failures.append(exc)
        finally:
            if self._http is not None:
                self._http.close()
        if len(failures) == 1:
            raise failures[0]
        if failures:
            first = failures[0]
            joined = "; ".join(str(f).removeprefix(f"{self.source}: ") for f in failures)
            raise type(first)(self.source, f"{len(failures)} targets failed: {joined}")

    def is_known(self, target: Target, mention: Mention) -> bool:
        """Whether a stored walk of `target` has already covered this mention."""
        state = self.cursors.get(target.scope) or {}
        newest = _parse_iso(state.get("newest"))
        if newest is None or any(_in_gap(gap, mention) for gap in state.get("gaps", [])):
            return False
        return _at_or_before(mention, newest, state.get("newest_ids", []))

    def _walk(self, target: Target) -> Iterator[Page]:
        state = self.cursors.get(target.scope) or {}
        newest = _parse_iso(state.get("newest"))
        newest_ids = set(state.get("newest_ids", []))
        gaps: list[dict[str, Any]] = list(state.get("gaps", []))
        run_newest: datetime | None = None
        run_ids: set[str] = set()
        token: Any = None
        pages = 0
        while True:
            fetched = self.fetch(target, token)
            pages += 1
            reached_known = fetched.dropped_known
            for m in fetched.mentions:
                if self.is_known(target, m):
                    reached_known = True
                if run_newest is None or m.published_at > run_newest:
                    run_newest, run_ids = m.published_at, {m.native_id}
                elif m.published_at == run_newest:
                    run_ids.add(m.native_id)
            done = fetched.next is None or reached_known or not fetched.mentions or pages >= self.max_pages
            if done and run_newest is not None and (newest is None or run_newest > newest):
                mark, mark_ids = run_newest, run_ids
            elif done and run_newest is not None and run_newest == newest:
                mark, mark_ids = newest, newest_ids | run_ids
            else:
                mark, mark_ids = newest, newest_ids
            capped = pages >= self.max_pages and fetched.next is not None and fetched.mentions
            if done and capped and not reached_known and newest is not None:
                # Stopped by max_pages before reaching what the last run stored (a burst, an
                # outage): remember where, and later runs walk on from there until they reach it.
                oldest = min(m.published_at for m in fetched.mentions)
                gaps.insert(
                    0,
                    {
                        "token": fetched.next,
                        "after": newest.isoformat(),
                        "after_ids": sorted(newest_ids),
                        "before": oldest.isoformat(),
                    },
                )
                # A source that outpaces max_pages on every run can never catch up: keep the newest gaps.
                del gaps[MAX_GAPS:]
            cursor: dict[str, Any] = {
                "newest": mark.isoformat() if mark else None,
                "newest_ids": sorted(mark_ids),
            }
            if gaps:
                cursor["gaps"] = list(gaps)  # a copy: the page keeps the state it was stored with
            if done:
                cursor["last_run_pages"] = pages
            else:
                cursor["in_progress_page"] = pages  # informative: a crash here restarts from the newest page
            yield Page(fetched.mentions, cursor=cursor, scope=target.scope, origin=fetched.origin)
            if done:
                break
            token = fetched.next
        if gaps:
            yield from self._fill_gaps(target, cursor)

    def _fill_gaps(self, target: Target, cursor: dict[str, Any]) -> Iterator[Page]:
        """Walk on from where capped runs stopped (newest gap first), up to max_pages more pages.
        Each page is stored with the gap's new position, so a crash resumes there."""
        pages = 0
        while cursor.get("gaps") and pages < self.max_pages:
            gap = cursor["gaps"][0]
            fetched = self.fetch(target, gap["token"])
            pages += 1
            after = datetime.fromisoformat(gap["after"])
            closed = (
                fetched.next is None
                or not fetched.mentions
                or any(_at_or_before(m, after, gap["after_ids"]) for m in fetched.mentions)
            )
            rest = cursor["gaps"][1:]
            cursor = {**cursor, "gaps": rest if closed else [{**gap, "token": fetched.next}, *rest]}
            if not cursor["gaps"]:
                del cursor["gaps"]
            yield Page(fetched.mentions, cursor=cursor, scope=target.scope, origin=fetched.origin)


def _parse_iso(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _at_or_before(mention: Mention, moment: datetime, ids: list[str]) -> bool:
    return mention.published_at < moment or (mention.published_at == moment and mention.native_id in ids)


def _in_gap(gap: dict[str, Any], mention: Mention) -> bool:
    """Between what a run stored before a capped run and the oldest item that run reached."""
    after, before = datetime.fromisoformat(gap["after"]), datetime.fromisoformat(gap["before"])
    return not _at_or_before(mention, after, gap["after_ids"]) and mention.published_at <= before
