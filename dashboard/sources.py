"""What the sources page (dashboard/pages/sources.py) shows, as pure functions of the configured
sources and the health storage/health.py keeps (the same rows `koubei sources` prints).

A failed run is stored with its kind (collectors/runner.py `error_kind`: blocked, unavailable,
layout, parse, config, source, storage, bug) and its redacted message; `advice_key` turns the two
into what to do about it: a 403 is most often an expired login cookie, a 429 a rate limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from collectors.base import SourceConfig
from storage.health import CollectRun, SourceHealth

# What to do about a failed run, by its kind; the messages collectors/http.py writes say more
# for two of them (a 429 is a rate limit, a robots.txt refusal is not a cookie).
ADVICE = {
    "blocked": "sources.advice_blocked",
    "unavailable": "sources.advice_unavailable",
    "layout": "sources.advice_layout",
    "parse": "sources.advice_parse",
    "config": "sources.advice_config",
    "storage": "sources.advice_storage",
}
RATE_LIMITED = ("HTTP 429", "Retry-After")
ROBOTS = "robots.txt"


def advice_key(kind: str | None, message: str | None) -> str:
    """The strings key of what to do about a failure of this kind and message."""
    text = message or ""
    if kind == "unavailable" and any(mark in text for mark in RATE_LIMITED):
        return "sources.advice_rate_limited"
    if kind == "blocked" and ROBOTS in text:
        return "sources.advice_robots"
    return ADVICE.get(kind or "", "sources.advice_bug")


def plain(text: str) -> str:
    """A name made safe inside Markdown (st.error renders it): every Markdown character escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~:$])", r"\\\1", text)


@dataclass(frozen=True)
class SourceRow:
    """One source as the page lists it: configured, seen in the health table, or both."""

    name: str
    kind: str | None  # None: not (or no longer) configured, known only from its runs
    enabled: bool | None
    interval: timedelta | None
    health: SourceHealth | None

    @property
    def failing(self) -> bool:
        return self.health is not None and self.health.status == "error"

    def next_run(self, now: datetime) -> datetime | None:
        """When `koubei watch` runs it next: an interval after its last run (now, if that has passed);
        None when it is off (only `koubei collect NAME` runs it) or not configured."""
        if not self.enabled or self.interval is None:
            return None
        last = self.health.last_run_at if self.health else None
        return now if last is None else max(now, last + self.interval)


def source_rows(configs: Sequence[SourceConfig], health: Sequence[SourceHealth]) -> list[SourceRow]:
    """Configured sources in the file's order, then sources known only from their runs; heartbeats left out."""
    by_name: Mapping[str, SourceHealth] = {h.source: h for h in health if not h.is_heartbeat}
    rows = [SourceRow(c.name, c.kind, c.options.enabled, c.options.interval, by_name.get(c.name)) for c in configs]
    named = {c.name for c in configs}
    rows += [SourceRow(name, None, None, None, h) for name, h in by_name.items() if name not in named]
    return rows


def heartbeats(health: Sequence[SourceHealth]) -> dict[str, datetime | None]:
    """The loops' last signs of life (`koubei-watch` -> its last pass)."""
    return {h.source: h.last_run_at for h in health if h.is_heartbeat}


def runs_frame(runs: Sequence[CollectRun]) -> pd.DataFrame:
    """One row per run: source, finished_at, items (inserted + updated + unchanged), status, error_kind."""
    return pd.DataFrame(
        [
            {
                "source": r.source,
                "finished_at": r.finished_at,
                "items": r.inserted + r.updated + r.unchanged,
                "status": r.status,
                "error_kind": r.error_kind,
            }
            for r in runs
        ],
        columns=["source", "finished_at", "items", "status", "error_kind"],
    )
