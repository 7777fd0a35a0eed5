"""A run stopped by max_pages before reaching the last run's items leaves a gap; later runs close it.

A real local server answers Reddit's listing format from a list of posts that grows at the
newest end between runs, the way a keyword's search results do during a burst.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from collectors.runner import collect
from koubei.config import Settings
from storage import Store
from storage.cursors import Cursor, get_cursors
from tests.collectors.conftest import FAST, base, settings_for

PER_PAGE = 2
T0 = datetime(2026, 11, 1, tzinfo=UTC)


class GrowingListing:
    """Posts newest first; `after` pages by the last post's name, as Reddit does."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.count = 0
        self.posts: list[dict[str, Any]] = []

    def publish(self, n: int) -> None:
        for _ in range(n):
            self.count += 1
            post = dict(self.template["data"]["children"][0]["data"])
            post["id"] = f"g{self.count}"
            post["name"] = f"t3_g{self.count}"
            post["created_utc"] = post["created"] = (T0 + timedelta(minutes=self.count)).timestamp()
            self.posts.insert(0, post)

    def handle(self, request: Request) -> Response:
        after = request.args.get("after")
        start = next((i + 1 for i, p in enumerate(self.posts) if p["name"] == after), 0)
        page = self.posts[start : start + PER_PAGE]
        data = copy.deepcopy(self.template)
        data["data"]["children"] = [{"kind": "t3", "data": p} for p in page]
        data["data"]["after"] = page[-1]["name"] if start + PER_PAGE < len(self.posts) else None
        return Response(json.dumps(data), content_type="application/json")


@pytest.fixture
def listing(httpserver: HTTPServer, fixtures_dir: Path) -> GrowingListing:
    served = GrowingListing(json.loads((fixtures_dir / "reddit_listing.json").read_text(encoding="utf-8")))
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    httpserver.expect_request("/reddit/search.json").respond_with_handler(served.handle)
    return served


def reddit_settings(server: HTTPServer) -> Settings:
    return settings_for(
        {"reddit": {"base_url": f"{base(server)}/reddit", "keywords": ["SonicWave"], "max_pages": 2, **FAST}}
    )


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
