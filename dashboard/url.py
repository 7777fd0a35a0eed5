"""Choices kept in the URL as codes, whatever the language: `?lang=en&bucket=day&incident=...`.

Streamlit's bind="query-params" writes a choice widget's *shown* label into the URL, so a
link made in Chinese (`bucket=天`) meant nothing in English. These choices are plain
widgets keyed in st.session_state instead: seeded from the URL when a session (or the page
that owns the widget) starts, written back as codes after each run, and dropped from the
URL at their default. Old links keep working through `aliases` (`lang=English`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import streamlit as st


def seed(
    key: str,
    options: Sequence[str],
    default: str,
    aliases: Mapping[str, str] | None = None,
    widget: str | None = None,
) -> None:
    """Before the widget is drawn (keyed `widget`, by default `key`): take its value from
    ?key=... when it has none yet."""
    widget = widget or key
    if widget in st.session_state:
        return
    raw = st.query_params.get(key)
    value = (aliases or {}).get(raw, raw) if raw is not None else None
    st.session_state[widget] = value if value in options else default


def keep(key: str, value: str | None, default: str | None = None) -> None:
    """After the widget: the URL holds its code (nothing when it is the default)."""
    if value is None or value == default:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


BRIEF_PARAM = "incident"
INCIDENTS_PAGE = Path(__file__).resolve().parent / "pages/incidents.py"


def open_brief(incident_id: str) -> None:
    """Go to the incident brief of `incident_id` (a link that can be shared: /incidents?incident=...)."""
    params = {BRIEF_PARAM: incident_id}
    if lang := st.query_params.get("lang"):
        params["lang"] = lang
    st.switch_page(INCIDENTS_PAGE, query_params=params)
