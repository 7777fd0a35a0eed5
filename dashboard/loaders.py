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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from alerts.cases import Case, load_cases
from koubei.config import LAKE_ADDRESS, load_settings
from koubei.errors import ConfigError
from koubei.settings.effective import load_effective_settings
from koubei.settings.sections import DashboardTable
from storage import StorageError, Store, open_store, queries
from storage.alerts_series import window_excluded, window_urgent_reasons
from storage.db import LakeLocation
from storage.incidents import Incident, IncidentMention, IncidentResponse, get_incident, incident_mentions, responses
from storage.reports import count_export_mentions

# How long a dashboard read waits for a writer to let go of the file.
LOCK_TIMEOUT = 10.0
# Seconds a cached result may be reused (dashboard/data.py); kept below the refresh interval so a
# live refresh shows new data (a ttl longer than run_every would show stale data).
CACHE_TTL = 5
# Buckets the overview's chart may use, finest first; the finest that gives each bucket
# about MENTIONS_PER_BUCKET mentions wins, so a narrow filter is not a row of 0s and 1s.
BUCKETS = (3600, 6 * 3600, 86400)
MENTIONS_PER_BUCKET = 20
MAX_BUCKETS = 400
TRIAGE_ROWS = 500  # rows in the triage page's editor; the tier counts above it cover everything
TRIAGE_MIN_TIER = 2  # the triage page's tier floor until one is picked


def db_path() -> str:
    """$KOUBEI_DB (set by `koubei dashboard` for a file), else the configured database: a
    file's path, or a lake's address (open_store takes either)."""
    if env := os.environ.get("KOUBEI_DB"):
        return env
    location = load_settings().location
    return location.address if isinstance(location, LakeLocation) else str(location)


def settings_db(db: str) -> Path | None:
    """What the settings are read with for `db`: a file's path; for a lake nothing, as the
    settings find it through $KOUBEI_DB or the config (a path would mangle its address)."""
    return None if db.startswith(LAKE_ADDRESS) else Path(db)


def database_missing() -> bool:
    """No database file yet (a lake is never missing: opening it says what is wrong)."""
    db = db_path()
    return not db.startswith(LAKE_ADDRESS) and not Path(db).exists()


def dashboard_settings() -> DashboardTable:
    """[dashboard] in koubei.toml; a bad file must not take the dashboard down (the CLI reports
    config errors), so it falls back to the defaults."""
    try:
        return load_settings().dashboard
    except ConfigError:
        return DashboardTable()


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


def store_stamp(db: str) -> tuple[int, ...]:
    """What changes whenever the store does: the size and modification time of the file and of its
    write-ahead log (every commit appends to the log, every checkpoint rewrites the file), so that a
    cache keyed by it is reused until a write and no longer. A lake has no such file: there the
    stamp is the current CACHE_TTL-long slot of the clock, so its cache expires as the others do."""
    if db.startswith(LAKE_ADDRESS):
        return (int(time.time() // CACHE_TTL),)
    stamp: list[int] = []
    for path in (Path(db), Path(f"{db}.wal")):
        try:
            found = path.stat()
        except FileNotFoundError:
            stamp += [-1, -1]
        else:
            stamp += [found.st_size, found.st_mtime_ns]
    return tuple(stamp)


def load_filter_options(db: str) -> dict[str, Any]:
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        if missing := queries.missing_migrations(store):
            raise StorageError(  # store.path names a lake without its password; `db`, its address, holds it
                f"{store.path} predates this version of koubei (missing {', '.join(missing)}):"
                " run `koubei run` (or any writing command) once to migrate it"
            )
        return queries.filter_options(store)


def bucket_for(mentions: int, span: timedelta) -> int:
    """The finest bucket in which the selection's mentions average MENTIONS_PER_BUCKET."""
    for seconds in BUCKETS:
        buckets = span.total_seconds() / seconds
        if buckets <= MAX_BUCKETS and mentions >= MENTIONS_PER_BUCKET * buckets:
            return seconds
    return BUCKETS[-1]


@dataclass
class OverviewData:
    current: queries.Kpis
    previous: queries.Kpis
    open_cases: list[Case[Incident]]  # the unresolved ones of marked_cases
    new_cases: int  # cases whose first incident began in the period
    marked_cases: list[Case[Incident]]  # any status, windows in the period: the chart's markers
    bucket_seconds: int
    series: pd.DataFrame
    latest_negative: pd.DataFrame
    loaded_at: datetime
    export_mentions: int  # rows of the CSV download of the filter (storage.reports.count_export_mentions)
    export_negative: int  # rows of the Excel download's negative-mentions sheet


def load_overview(
    db: str,
    f: queries.MentionFilter,
    bucket_seconds: int | None = None,
    tz: str = "Asia/Shanghai",
) -> OverviewData:
    """Everything the overview shows, read in one short read-only connection. Without a
    `bucket_seconds` the chart's bucket follows the volume (bucket_for)."""
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        current = queries.kpis(store, f)
        bucket = bucket_seconds or bucket_for(current.mentions, f.end - f.start)
        marked = load_cases(store, queries.filtered_incidents(store, f))
        return OverviewData(
            current=current,
            previous=queries.kpis(store, f.previous()),
            open_cases=[c for c in marked if c.status != "resolved"],
            new_cases=sum(1 for c in marked if c.window[0] >= f.start),
            marked_cases=marked,
            bucket_seconds=bucket,
            series=queries.volume_series(store, f, timedelta(seconds=bucket), tz),
            latest_negative=queries.latest_negative(store, f, limit=50),
            loaded_at=datetime.now(UTC),
            # Counted here, not in a connection of the export section's own: each open and close of the
            # file cost a filter change 0.1-0.3 s at 10M mentions.
            export_mentions=count_export_mentions(store, f),
            export_negative=count_export_mentions(store, f, "neg"),
        )


def load_queue(db: str, f: queries.MentionFilter, statuses: tuple[str, ...]) -> list[Case[Incident]]:
    """The incident queue: the filter's incidents of these statuses, as cases."""
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        return load_cases(store, queries.filtered_incidents(store, f, statuses))


@dataclass
class BriefData:
    """Everything the incident brief states about one incident, read from storage."""

    incident: Incident
    case: Case[Incident]  # the case it belongs to, whatever the page's filter
    mentions: list[IncidentMention]  # its driving mentions, most reach first
    excluded: int  # copies and paid posts of its window the trust checks left out
    urgent_reasons: list[str]  # triage reasons of the window's tier-5 mentions
    log: list[IncidentResponse]  # the case's actions, oldest first
    deliveries: pd.DataFrame  # the alerts sent about the case
    trace: pd.DataFrame | None  # the scope's series and expected band (None for an outage)


TRACE_BEFORE = timedelta(days=2)
TRACE_AFTER = timedelta(hours=12)


def load_brief(db: str, incident_id: str) -> BriefData | None:
    """Everything the brief shows, read in one short read-only connection (the saved settings the
    trace needs are read before it)."""
    from alerts.backtest import scope_trace
    from alerts.facts import scope_window

    settings = load_effective_settings(db=settings_db(db))
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as opened:
        incident = get_incident(opened, incident_id)
        if incident is None:
            return None
        window = queries.MentionFilter(
            incident.window_start, incident.window_end, (incident.brand,) if incident.brand else ()
        )
        neighbours = [i for i in queries.filtered_incidents(opened, window) if i.brand == incident.brand]
        case = next(c for c in load_cases(opened, neighbours) if incident.id in {m.id for m in c.members})
        members = [m.id for m in case.members]
        scoped = scope_window(incident)
        traced = incident.kind in ("negative", "volume")
        return BriefData(
            incident=incident,
            case=case,
            mentions=incident_mentions(opened, incident_id),
            excluded=window_excluded(opened, scoped),
            urgent_reasons=window_urgent_reasons(opened, scoped),
            log=case_log(opened, members),
            deliveries=queries.incident_deliveries(opened, members),
            trace=scope_trace(opened, settings, incident, TRACE_BEFORE, TRACE_AFTER) if traced else None,
        )


def case_log(store: Store, incident_ids: list[str]) -> list[IncidentResponse]:
    """The actions on a case's incidents, each once (one click logs on every incident), oldest first."""
    seen = {(e.acted_at, e.actor, e.action, e.note): e for i in incident_ids for e in responses(store, i)}
    return sorted(seen.values(), key=lambda e: e.acted_at)
