"""Sources that page through a site newest first, per target, incrementally.

A source subclasses `HttpCollector`: it names the option that lists its targets,
fetches one page of a target (`fetch`) and parses a response body (`read_page`,
which `koubei parse` also runs on a saved response). The walk below is shared.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from collectors.base import Collector, Page, ParseContext, SourceConfig
from collectors.items import ItemError
from collectors.options import HttpSourceOptions, TargetTable, TargetType
from koubei.errors import CollectorError
from koubei.records import Mention
from storage.cursors import Cursor, Gap

if TYPE_CHECKING:
    from collectors.http import HttpClient, Response

Token = int | str  # what names the next page: a page number, an offset, an `after` id, a URL
MAX_GAPS = 10


@dataclass
class Target:
    """One thing a source watches: a product id, a keyword, an app, a feed URL.

    In koubei.toml a target is a string, or a table {id = "...", brand = "...",
    product = "..."} that overrides the source's brand and product.
    """

    value: str
    brand: str | None = None
    product: str | None = None
    table: TargetTable | None = None  # the target's table, when it was written as one

    @property
    def scope(self) -> str:
        return self.value

    def entry(self, table_type: type[TargetType]) -> TargetType:
        """The target as the source's own target table, with its defaults when it was a plain id."""
        return self.table if isinstance(self.table, table_type) else table_type(id=self.value)


@dataclass
class Fetched:
    """One fetched and parsed page; `next` is the token for the next page, None at the end."""

    mentions: list[Mention]
    next: Token | None = None
    # A source that drops items it already stored (to spare a request) says so here,
    # so that paging still stops at known items.
    dropped_known: bool = False


class HttpCollector(Collector[Cursor]):
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

    target_key: ClassVar[str]  # the option that lists targets: "skus", "keywords", ...
    options: HttpSourceOptions
    cursor_type = Cursor

    def __init__(self, config: SourceConfig, cursors: Mapping[str, Cursor] | None = None) -> None:
        super().__init__(config, cursors)
        self._http: HttpClient | None = None
        self._skipped: list[ItemError] = []  # items the pages fetched since the last yield skipped

    # -- parsing: the part of a source that works without the network

    @staticmethod
    @abstractmethod
    def read_page(body: bytes | str, context: ParseContext) -> tuple[list[Mention], Any]:
        """The mentions of one response body, and what paging needs from it (the next
        page's token, the page count the site reports, ...)."""

    @classmethod
    def parse(cls, body: bytes | str, **context: Any) -> list[Mention]:
        """The mentions in one response body, such as a saved one (`koubei parse`).

        Context by keyword: source (default the kind), brand, product, origin, now, errors (a
        list that gets the items skipped), and the source's own options (selectors, match, cc)."""
        return cls.read_page(body, ParseContext.of(cls.name, context))[0]

    def context(self, target: Target, origin: str, **options: Any) -> ParseContext:
        """The context of a page of `target` fetched from `origin`; the items it skips are
        reported with the next page yielded."""
        return ParseContext(self.source, target.brand, target.product, origin, options=options, errors=self._skipped)

    def _page(self, fetched: Fetched, cursor: Cursor, target: Target) -> Page:
        skipped = list(self._skipped)
        self._skipped.clear()  # in place: the contexts of later pages report to this list
        return Page(fetched.mentions, cursor=cursor, scope=target.scope, item_errors=skipped)

    # -- fetching

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            from collectors.http import HttpClient, HttpOptions

            options = HttpOptions.from_options(self.source, self.options)
            self._http = HttpClient(self.source, options, stop=self.stop)
        return self._http

    @property
    def base_url(self) -> str:
        return self.options.base_url.rstrip("/")

    def targets(self) -> list[Target]:
        found = []
        for entry in getattr(self.options, self.target_key):
            if isinstance(entry, TargetTable):
                brand, product = entry.brand or self.options.brand, entry.product or self.options.product
                found.append(Target(str(entry.id), brand, product, entry))
            else:
                found.append(Target(str(entry), self.options.brand, self.options.product))
        return found

    def get(self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
        return self.http.get(url, params=params, headers=headers)

    @abstractmethod
    def fetch(self, target: Target, token: Token | None) -> Fetched:
        """Fetch and parse one page of `target`; token None means the first (newest) page."""

    # -- the walk

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
        cursor = self.cursors.get(target.scope)
        if cursor is None or cursor.newest is None or any(_in_gap(gap, mention) for gap in cursor.gaps):
            return False
        return _at_or_before(mention, cursor.newest, cursor.newest_ids)

    def _walk(self, target: Target) -> Iterator[Page]:
        stored = self.cursors.get(target.scope) or Cursor()
        newest, newest_ids = stored.newest, set(stored.newest_ids)
        gaps = list(stored.gaps)
        run_newest: datetime | None = None
        run_ids: set[str] = set()
        token: Token | None = None
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
            done = fetched.next is None or reached_known or not fetched.mentions or pages >= self.options.max_pages
            mark: datetime | None = newest
            mark_ids = newest_ids
            if done and run_newest is not None and (newest is None or run_newest > newest):
                mark, mark_ids = run_newest, run_ids
            elif done and run_newest is not None and run_newest == newest:
                mark_ids = newest_ids | run_ids
            capped = pages >= self.options.max_pages and fetched.next is not None and fetched.mentions
            if done and capped and fetched.next is not None and not reached_known and newest is not None:
                # Stopped by max_pages before reaching what the last run stored (a burst, an
                # outage): remember where, and later runs walk on from there until they reach it.
                oldest = min(m.published_at for m in fetched.mentions)
                gaps.insert(0, Gap(fetched.next, newest, tuple(sorted(newest_ids)), oldest))
                # A source that outpaces max_pages on every run can never catch up: keep the newest gaps.
                del gaps[MAX_GAPS:]
            cursor = Cursor(
                newest=mark,
                newest_ids=tuple(sorted(mark_ids)),
                gaps=tuple(gaps),
                last_run_pages=pages if done else None,
                # Informative: a crash here restarts from the newest page.
                in_progress_page=None if done else pages,
            )
            yield self._page(fetched, cursor, target)
            if done:
                break
            token = fetched.next
        if gaps:
            yield from self._fill_gaps(target, cursor)

    def _fill_gaps(self, target: Target, cursor: Cursor) -> Iterator[Page]:
        """Walk on from where capped runs stopped (newest gap first), up to max_pages more pages.
        Each page is stored with the gap's new position, so a crash resumes there."""
        pages = 0
        while cursor.gaps and pages < self.options.max_pages:
            gap, rest = cursor.gaps[0], cursor.gaps[1:]
            fetched = self.fetch(target, gap.token)
            pages += 1
            reached = any(_at_or_before(m, gap.after, gap.after_ids) for m in fetched.mentions)
            if fetched.next is None or not fetched.mentions or reached:
                cursor = msgspec.structs.replace(cursor, gaps=rest)  # closed
            else:
                moved = msgspec.structs.replace(gap, token=fetched.next)
                cursor = msgspec.structs.replace(cursor, gaps=(moved, *rest))
            yield self._page(fetched, cursor, target)


def _at_or_before(mention: Mention, moment: datetime, ids: tuple[str, ...]) -> bool:
    return mention.published_at < moment or (mention.published_at == moment and mention.native_id in ids)


def _in_gap(gap: Gap, mention: Mention) -> bool:
    """Between what a run stored before a capped run and the oldest item that run reached."""
    return not _at_or_before(mention, gap.after, gap.after_ids) and mention.published_at <= gap.before
