"""Collector tests: real HTTP servers on 127.0.0.1 (pytest-httpserver) serving the real formats."""

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

from collectors.demo.server import DemoSite, demo_sources_config
from koubei.config import Settings, parse_settings
from storage import Store, open_store
from storage.db import LakeLocation

# Tiny delays so fault-injection tests stay fast; the production defaults are seconds.
FAST = {"min_interval": 0.0, "retries": 1, "backoff": 0.01, "backoff_max": 0.05, "timeout": 2.0}


@pytest.fixture
def store_factory(db_path: Path) -> Callable[[], Store]:
    return lambda: open_store(db_path)


@pytest.fixture
def any_store_factory(any_db: Path | LakeLocation) -> Callable[[], Store]:
    """store_factory once on each backend (any_db): the single file and a lake."""
    return lambda: open_store(any_db)


@pytest.fixture
def site(fixtures_dir: Path) -> DemoSite:
    """The fixtures as paged, per-site responses (ids unique per page, recent times)."""
    return DemoSite(fixtures_dir, pages=3)


Fault = Callable[[Request], "Response | None"]


def site_handler(site: DemoSite, faults: dict[str, Fault] | None = None) -> Callable[[Request], Response]:
    """Answer from the fixtures, unless a fault registered for the path's prefix answers first."""

    def handle(request: Request) -> Response:
        for prefix, fault in list((faults or {}).items()):
            if request.path.startswith(prefix) and (injected := fault(request)) is not None:
                return injected
        query = {k: v for k, v in request.args.items()}
        status, content_type, body = site.route(request.path, query)
        return Response(body, status=status, content_type=content_type)

    return handle


@pytest.fixture
def faults() -> dict[str, Fault]:
    """Path prefix -> fault; a fault returns a Response to inject or None to let the fixture answer."""
    return {}


@pytest.fixture
def served(httpserver: HTTPServer, site: DemoSite, faults: dict[str, Fault]) -> HTTPServer:
    """pytest-httpserver answering every path from the fixtures (robots.txt included)."""
    import re

    httpserver.expect_request(re.compile(".*")).respond_with_handler(site_handler(site, faults))
    return httpserver


def base(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def source_options(server: HTTPServer) -> dict[str, dict[str, Any]]:
    """One configured source per kind, pointed at the local server as its `Demo` says, named after its kind."""
    return {kind: {**table, **FAST} for kind, table in demo_sources_config(base(server)).items()}


def settings_for(sources: dict[str, dict[str, Any]]) -> Settings:
    return parse_settings({"sources": sources})


# ---------------------------------------------------------------- a listing that grows between runs

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
