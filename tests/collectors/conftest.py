"""Collector tests: real HTTP servers on 127.0.0.1 (pytest-httpserver) serving the real formats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from collectors.demo.server import DemoSite, demo_sources_config
from koubei.config import Settings
from storage import Store, open_store

# Tiny delays so fault-injection tests stay fast; the production defaults are seconds.
FAST = {"min_interval": 0.0, "retries": 1, "backoff": 0.01, "backoff_max": 0.05, "timeout": 2.0}


@pytest.fixture
def store_factory(db_path: Path) -> Callable[[], Store]:
    return lambda: open_store(db_path)


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
    return Settings(raw={"sources": sources})
