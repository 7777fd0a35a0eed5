"""`koubei demo-sources`: the real response formats served on 127.0.0.1.

Serves the saved responses of ../shared/fixtures/sources the way each site
does, each source under /KIND/ (/jd/comment/productPageComments.action,
/weibo/api/container/getIndex, ...): the routes, pages and paging are the
sources' own (their `Demo`, collectors/base.py). Each page is a fixture's items
with ids made unique per page and times moved to the recent past, so the
dashboard shows them. Times are fixed when the server starts, so a second
`koubei collect` finds nothing new.

Only for demos, tests and the benchmark; the product itself never needs ../shared.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from collectors.base import DemoPlace, Pager, Reply, registry
from koubei.errors import ConfigError

STEP = timedelta(hours=2)  # time between two consecutive demo items
OWN_FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"


class DemoSite:
    """Answers each request from the fixtures; pure, so tests can call it without a server.

    A fixture is looked up in `fixtures` (../shared/fixtures/sources: the real
    responses), then in tests/fixtures/KIND/ of this repository, where a source
    keeps the responses it was written against (STYLE.md 9).
    """

    def __init__(self, fixtures: Path, pages: int = 3, now: datetime | None = None) -> None:
        if not fixtures.is_dir():
            raise ConfigError(
                f"fixtures directory not found: {fixtures} (pass --fixtures DIR: "
                "../shared/fixtures/sources holds the saved responses)"
            )
        demos = {kind: cls.demo for kind, cls in registry().items() if cls.demo is not None}
        found = {name: fixture_path(name, kind, fixtures) for kind, demo in demos.items() for name in demo.fixtures}
        missing = sorted(name for name, path in found.items() if path is None)
        if missing:
            raise ConfigError(f"{fixtures} lacks {', '.join(missing)}")
        self.pages = pages
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self._text = {name: path.read_text(encoding="utf-8") for name, path in found.items() if path is not None}
        self._json = {name: json.loads(text) for name, text in self._text.items() if name.endswith(".json")}
        self._routes: list[tuple[re.Pattern[str], Pager]] = [
            (re.compile(f"/{kind}{pattern}"), pager)
            for kind, demo in demos.items()
            for pattern, pager in demo.routes.items()
        ]
        self.requests = 0

    # -- what pagers make pages from (collectors.base.DemoFixtures)
    def json(self, name: str) -> Any:
        return copy.deepcopy(self._json[name])

    def text(self, name: str) -> str:
        return self._text[name]

    def when(self, page: int, index: int, per_page: int) -> datetime:
        return self.now - STEP * (page * per_page + index + 1)

    def route(self, path: str, query: dict[str, str]) -> Reply:
        self.requests += 1
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        for pattern, pager in self._routes:
            if m := pattern.fullmatch(path):
                return pager(self, {**query, **m.groupdict()})
        return 404, "text/plain", f"no demo route for {path}".encode()


def fixture_path(name: str, kind: str, fixtures: Path) -> Path | None:
    """Where a source's fixture is: in `fixtures`, else in tests/fixtures/KIND/; None if in neither."""
    return next((folder / name for folder in (fixtures, OWN_FIXTURES / kind) if (folder / name).is_file()), None)


def serve(site: DemoSite, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start serving `site` in a background thread; returns the server (server_address has the port)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            status, content_type, body = site.route(parts.path, query)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="koubei-demo-sources", daemon=True).start()
    return server


def demo_sources_config(base: str, brands: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """[sources.KIND] tables that point every source with a `Demo` at the demo server on `base`."""
    brand_names = [str(b["name"]) for b in brands or [] if b.get("name")] or ["声浪"]
    products = [p for b in brands or [] for p in b.get("products", [])] or ["声浪X1耳机"]
    polite = {"min_interval": 0.0, "retries": 1, "backoff": 0.05, "timeout": 5.0}
    tables = {}
    for kind, cls in registry().items():
        if cls.demo is not None:
            place = DemoPlace(f"{base}/{kind}", brand_names[0], brand_names[-1], products[0])
            tables[kind] = {"kind": kind, **cls.demo.table(place), **polite}
    return tables


def demo_settings(raw: dict[str, Any], base: str) -> dict[str, Any]:
    """The current config with [sources] replaced by the demo server's sources (demo kept off)."""
    out = {k: v for k, v in raw.items() if k != "sources"}
    out["sources"] = demo_sources_config(base, raw.get("brands"))
    return out
