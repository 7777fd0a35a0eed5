"""How the dashboard reaches the database without ever holding it (no Streamlit here,
so other processes, benchmarks and tests run exactly this code).

DuckDB lets no other process open a file that one process has open for writing
(see storage/db.py), and a collector may be writing at any time. So the
dashboard never keeps a connection: each unit of work opens a read-only Store,
runs its queries and closes it; a locked file is retried with backoff inside
open_store. dashboard/data.py caches these loaders for the pages. Writes from
pages (ack an incident, correct a label) use `writing()`: a short read-write Store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from koubei.config import load_settings
from koubei.errors import ConfigError
from koubei.settings.sections import DashboardTable
from storage import StorageError, Store, open_store, queries
from storage.incidents import Incident, get_incident

# How long a dashboard read waits for a writer to let go of the file.
LOCK_TIMEOUT = 10.0
DISPLAY_TZ = "Asia/Shanghai"


def db_path() -> Path:
    """$KOUBEI_DB (set by `koubei dashboard`), else the configured database."""
    if env := os.environ.get("KOUBEI_DB"):
        return Path(env)
    return load_settings().db_path


def refresh_seconds() -> int:
    """[dashboard] refresh_seconds in koubei.toml."""
    try:
        return load_settings().dashboard.refresh_seconds
    except ConfigError:  # a bad file must not take the live refresh down; the CLI reports config errors
        return DashboardTable().refresh_seconds


@contextmanager
def reading() -> Iterator[Store]:
    """A read-only Store for one unit of work, closed right after."""
    with open_store(db_path(), read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        yield store


@contextmanager
def writing() -> Iterator[Store]:
    """A short read-write Store for one click's worth of writing."""
    with open_store(db_path(), lock_timeout=LOCK_TIMEOUT) as store:
        yield store


def load_filter_options(db: str) -> dict[str, Any]:
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        if missing := queries.missing_migrations(store):
            raise StorageError(
                f"{db} predates this version of koubei (missing {', '.join(missing)}):"
                " run `koubei run` (or any writing command) once to migrate it"
            )
        return queries.filter_options(store)


@dataclass
class OverviewData:
    current: queries.Kpis
    previous: queries.Kpis
    open_incidents_now: int
    incidents_this_period: int
    incidents_previous_period: int
    series: pd.DataFrame
    markers: pd.DataFrame
    open_incidents: pd.DataFrame
    latest_negative: pd.DataFrame
    loaded_at: datetime


def load_overview(
    db: str,
    f: queries.MentionFilter,
    bucket_seconds: int,
    tz: str = DISPLAY_TZ,
) -> OverviewData:
    """Everything the overview shows, read in one short read-only connection."""
    prev = f.previous()
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        return OverviewData(
            current=queries.kpis(store, f),
            previous=queries.kpis(store, prev),
            open_incidents_now=queries.open_incident_count(store, f.brands),
            incidents_this_period=queries.incidents_started(store, f.start, f.end, f.brands),
            incidents_previous_period=queries.incidents_started(store, prev.start, prev.end, f.brands),
            series=queries.volume_series(store, f, timedelta(seconds=bucket_seconds), tz),
            markers=queries.incidents_between(store, f.start, f.end, f.brands),
            open_incidents=queries.open_incidents(store, f.brands),
            latest_negative=queries.latest_negative(store, f, limit=50),
            loaded_at=datetime.now(UTC),
        )


def load_incident_detail(db: str, incident_id: str) -> tuple[Incident | None, pd.DataFrame]:
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        return get_incident(store, incident_id), queries.incident_mentions(store, incident_id)
