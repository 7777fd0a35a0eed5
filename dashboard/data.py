"""The pages' access to the database and settings: dashboard.loaders, cached.

Results are cached with st.cache_data so reruns and other browser sessions do not
reopen the file at all; see dashboard/loaders.py for why every read opens and closes
its own read-only connection. The reads of the overview and the incident queue are
keyed by the store's stamp (loaders.store_stamp: the file's and its log's size and
time), so they are read again as soon as the store changed and never while it did
not; what also depends on koubei.toml or the clock (the brief) keeps a CACHE_TTL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from alerts.cases import Case
from dashboard.loaders import (
    CACHE_TTL,
    LOCK_TIMEOUT,
    BriefData,
    OverviewData,
    dashboard_settings,
    database_missing,
    db_path,
    load_brief,
    load_filter_options,
    load_overview,
    load_queue,
    reading,
    settings_db,
    store_stamp,
    writing,
)
from storage import queries
from storage.incidents import Incident

__all__ = [
    "CACHE_TTL",
    "LOCK_TIMEOUT",
    "BriefData",
    "OverviewData",
    "brief",
    "changed",
    "database_missing",
    "db_path",
    "display_tz",
    "filter_options",
    "overview",
    "queue",
    "reading",
    "refresh_seconds",
    "settings_db",
    "writing",
]


@st.cache_data(ttl=CACHE_TTL, max_entries=1, show_spinner=False)
def _settings() -> tuple[str, int]:
    table = dashboard_settings()
    return str(table.timezone), table.refresh_seconds


def display_tz() -> str:
    """[dashboard] timezone: the one clock of every page, chart and export."""
    return _settings()[0]


def refresh_seconds() -> int:
    """[dashboard] refresh_seconds in koubei.toml."""
    return _settings()[1]


@st.cache_data(max_entries=8, show_spinner=False)
def _filter_options(db: str, stamp: tuple[int, ...]) -> dict[str, Any]:
    return load_filter_options(db)


def filter_options(db: str) -> dict[str, Any]:
    """What the filters offer, read again only when the store changed (its stamp is the cache's key):
    every rerun (a filter change, a click) draws the filters first, and a store that no one wrote to
    since has the same options."""
    return _filter_options(db, store_stamp(db))


@st.cache_data(max_entries=64, show_spinner=False)
def _overview(
    db: str, f: queries.MentionFilter, bucket_seconds: int | None, tz: str, stamp: tuple[int, ...]
) -> OverviewData:
    return load_overview(db, f, bucket_seconds, tz)


def overview(db: str, f: queries.MentionFilter, bucket_seconds: int | None, tz: str) -> OverviewData:
    """load_overview, read again only when the store changed (the filter is a frozen, hashable
    dataclass). The data are as of now when the store did not change since they were read."""
    return replace(_overview(db, f, bucket_seconds, tz, store_stamp(db)), loaded_at=datetime.now(UTC))


@st.cache_data(max_entries=16, show_spinner=False)
def _queue(
    db: str, f: queries.MentionFilter, statuses: tuple[str, ...], stamp: tuple[int, ...]
) -> list[Case[Incident]]:
    return load_queue(db, f, statuses)


def queue(db: str, f: queries.MentionFilter, statuses: tuple[str, ...]) -> list[Case[Incident]]:
    """load_queue, read again only when the store changed: the filter's incidents of these statuses, as cases."""
    return _queue(db, f, statuses, store_stamp(db))


@st.cache_data(ttl=CACHE_TTL, max_entries=16, show_spinner=False)
def brief(db: str, incident_id: str) -> BriefData | None:
    """load_brief, cached."""
    return load_brief(db, incident_id)


def changed() -> None:
    """After a page wrote (an action on a case): the next read sees it, on every page."""
    for cached in (_overview, _queue, brief):
        cached.clear()
