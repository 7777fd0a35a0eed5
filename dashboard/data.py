"""The pages' access to the database: dashboard.loaders, cached.

Results are cached with st.cache_data(ttl=CACHE_TTL) so reruns and other
browser sessions do not reopen the file at all; see dashboard/loaders.py for
why every read opens and closes its own read-only connection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.loaders import (
    DISPLAY_TZ,
    LOCK_TIMEOUT,
    OverviewData,
    db_path,
    load_filter_options,
    load_incident_detail,
    load_overview,
    reading,
    refresh_seconds,
    writing,
)
from storage import queries
from storage.incidents import Incident

__all__ = [
    "CACHE_TTL",
    "DISPLAY_TZ",
    "LOCK_TIMEOUT",
    "OverviewData",
    "db_path",
    "filter_options",
    "incident_detail",
    "load_overview",
    "overview",
    "reading",
    "refresh_seconds",
    "writing",
]

# Seconds a cached result may be reused; kept below the refresh interval so a
# live refresh shows new data (a ttl longer than run_every would show stale data).
CACHE_TTL = 5


@st.cache_data(ttl=CACHE_TTL, max_entries=8, show_spinner=False)
def filter_options(db: str) -> dict[str, Any]:
    return load_filter_options(db)


@st.cache_data(ttl=CACHE_TTL, max_entries=64, show_spinner=False)
def overview(
    db: str,
    start: datetime,
    end: datetime,
    brands: tuple[str, ...],
    products: tuple[str, ...],
    sources: tuple[str, ...],
    bucket_seconds: int,
    tz: str = DISPLAY_TZ,
) -> OverviewData:
    """load_overview, cached for CACHE_TTL seconds (arguments are plain hashable values)."""
    f = queries.MentionFilter(start=start, end=end, brands=brands, products=products, sources=sources)
    return load_overview(db, f, bucket_seconds, tz)


@st.cache_data(ttl=CACHE_TTL, max_entries=32, show_spinner=False)
def incident_detail(db: str, incident_id: str) -> tuple[Incident | None, pd.DataFrame]:
    return load_incident_detail(db, incident_id)
