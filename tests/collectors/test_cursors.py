"""Cursors are typed records; the JSON earlier versions stored in users' databases still loads and
still drives the walk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
import pytest
from pytest_httpserver import HTTPServer

from collectors.runner import collect
from collectors.sources.demo import DemoCursor
from storage import StorageError, Store
from storage.cursors import Cursor, Gap, get_cursor, get_cursors, set_cursor
from tests.collectors.conftest import GrowingListing, reddit_settings

# Written by the dict-based cursors before the typed records (json.dumps of the state), verbatim.
OLD_GAP = (
    '{"newest": "2026-11-01T00:13:00+00:00", "newest_ids": ["t3_g13"], "gaps": [{"token": "t3_g6", '
    '"after": "2026-11-01T00:03:00+00:00", "after_ids": ["t3_g3"], "before": "2026-11-01T00:10:00+00:00"}], '
    '"last_run_pages": 2}'
)
OLD_IN_PROGRESS = '{"newest": null, "newest_ids": [], "in_progress_page": 1}'
OLD_PAGE_TOKEN = (
    '{"newest": "2026-11-01T00:13:00+00:00", "newest_ids": ["1", "2"], "gaps": [{"token": 4, '
    '"after": "2026-11-01T00:03:00+00:00", "after_ids": [], "before": "2026-11-01T00:10:00+00:00"}], '
    '"last_run_pages": 10}'
)
OLD_DEMO = '{"until": "2026-11-19T04:00:00+00:00", "anchor": "2026-11-19T04:00:00+00:00"}'


def store_raw(store: Store, source: str, scope: str, state: str) -> None:
    store.con.execute("INSERT INTO cursors VALUES (?, ?, ?, now()::TIMESTAMP)", [source, scope, state])


def at(minute: int) -> datetime:
    return datetime(2026, 11, 1, 0, minute, tzinfo=UTC)


def test_stored_cursors_of_the_dict_era_load_as_records(store: Store) -> None:
    for scope, state in (("gap", OLD_GAP), ("new", OLD_IN_PROGRESS), ("jd", OLD_PAGE_TOKEN)):
        store_raw(store, "old", scope, state)
    store_raw(store, "demo", "", OLD_DEMO)
    cursors = get_cursors(store, "old", Cursor)
    assert cursors["gap"] == Cursor(at(13), ("t3_g13",), (Gap("t3_g6", at(3), ("t3_g3",), at(10)),), last_run_pages=2)
    assert cursors["new"] == Cursor(in_progress_page=1)
    assert cursors["jd"].gaps[0].token == 4  # a page number stays a number
    moment = datetime(2026, 11, 19, 4, 0, tzinfo=UTC)
    assert get_cursor(store, "demo", record=DemoCursor) == DemoCursor(until=moment, anchor=moment)


def test_a_record_round_trips_and_omits_what_it_does_not_hold(any_store: Store) -> None:
    cursor = Cursor(at(13), ("a", "b"), (Gap(7, at(3), ("c",), at(10)),), last_run_pages=3)
    set_cursor(any_store, "s", cursor, "scope")
    assert get_cursor(any_store, "s", "scope", record=Cursor) == cursor
    assert set(msgspec.json.decode(any_store.query("SELECT state FROM cursors")[0][0])) == {
        "newest",
        "newest_ids",
        "gaps",
        "last_run_pages",
    }


def test_a_cursor_that_is_not_the_record_is_an_error_naming_source_and_scope(store: Store) -> None:
    store_raw(store, "reddit", "SonicWave", '{"newest": "yesterday"}')
    with pytest.raises(StorageError, match=r"cursor of reddit \(scope 'SonicWave'\) is not a Cursor"):
        get_cursors(store, "reddit", Cursor)


def test_a_gap_stored_by_the_dict_era_is_walked_and_closed(
    httpserver: HTTPServer, listing: GrowingListing, any_store_factory: Callable[[], Store]
) -> None:
    """The typed walk resumes a gap from the JSON the old walk stored (tests/collectors/test_gaps.py's
    burst): it walks the gap down to g3, closes it, and then reads one page a run."""
    settings = reddit_settings(httpserver)
    listing.publish(3)
    collect(any_store_factory, settings)
    listing.publish(10)
    collect(any_store_factory, settings)  # stores g10..g13 and g6..g9, leaving the gap t3_g6 .. g3
    with any_store_factory() as store:
        store.con.execute("UPDATE cursors SET state = ? WHERE source = 'reddit'", [OLD_GAP])

    (third,) = collect(any_store_factory, settings)
    with any_store_factory() as store:
        stored = {r[0] for r in store.query("SELECT native_id FROM mentions")}
        (cursor,) = get_cursors(store, "reddit", Cursor).values()
    assert third.ok and stored == {f"t3_g{n}" for n in range(1, 14)} and not cursor.gaps
    assert cursor.newest == at(13) and cursor.newest_ids == ("t3_g13",)
    requests = len(httpserver.log)
    (fourth,) = collect(any_store_factory, settings)
    assert fourth.ok and fourth.inserted == 0 and fourth.pages == 1
    assert len([r for r, _ in httpserver.log[requests:] if r.path != "/robots.txt"]) == 1
