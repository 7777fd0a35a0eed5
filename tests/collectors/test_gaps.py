"""A run stopped by max_pages before reaching the last run's items leaves a gap; later runs close it.

A real local server answers Reddit's listing format from a list of posts that grows at the
newest end between runs, the way a keyword's search results do during a burst (conftest's
GrowingListing).
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_httpserver import HTTPServer

from collectors.runner import collect
from storage import Store
from storage.cursors import Cursor, get_cursors
from tests.collectors.conftest import GrowingListing, reddit_settings


def test_a_capped_run_leaves_a_gap_that_later_runs_close(
    httpserver: HTTPServer, listing: GrowingListing, store_factory: Callable[[], Store]
) -> None:
    settings = reddit_settings(httpserver)

    def stored() -> set[str]:
        with store_factory() as store:
            return {r[0] for r in store.query("SELECT native_id FROM mentions")}

    listing.publish(3)
    (first,) = collect(store_factory, settings)
    assert first.ok and stored() == {"t3_g1", "t3_g2", "t3_g3"}

    listing.publish(10)  # a burst: g4..g13, five pages, while a run may walk two
    (second,) = collect(store_factory, settings)
    # Two pages from the newest end (g13..g10), then two more into the gap (g9..g6).
    assert second.ok and second.inserted == 8
    with store_factory() as store:
        (cursor,) = get_cursors(store, "reddit", Cursor).values()
    assert len(cursor.gaps) == 1 and cursor.gaps[0].token == "t3_g6"

    (third,) = collect(store_factory, settings)  # nothing new at the top; the gap is walked down to g3
    assert third.ok and stored() == {f"t3_g{n}" for n in range(1, 14)}
    with store_factory() as store:
        (cursor,) = get_cursors(store, "reddit", Cursor).values()
    assert not cursor.gaps

    requests = len(httpserver.log)
    (fourth,) = collect(store_factory, settings)  # closed: back to one page per run
    assert fourth.ok and fourth.inserted == 0 and fourth.pages == 1
    assert len([r for r, _ in httpserver.log[requests:] if r.path != "/robots.txt"]) == 1


def test_a_first_run_capped_by_max_pages_leaves_no_gap(
    httpserver: HTTPServer, listing: GrowingListing, store_factory: Callable[[], Store]
) -> None:
    # History older than max_pages on the very first run is out of scope by design, not a hole.
    listing.publish(10)
    (run,) = collect(store_factory, reddit_settings(httpserver))
    assert run.ok and run.inserted == 4
    with store_factory() as store:
        (cursor,) = get_cursors(store, "reddit", Cursor).values()
    assert not cursor.gaps
