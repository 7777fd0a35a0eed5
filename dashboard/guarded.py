"""A page's read, with what to say when the database cannot answer (shared by the issue-13 views)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from dashboard.i18n import t
from storage import DatabaseBusy, StorageError

T = TypeVar("T")


def read_or_say(load: Callable[[], T]) -> T | None:
    """`load()`, or None after telling the reader the database is busy (a writer held it past the
    lock timeout) or cannot be read (with our own message: the path and what to run)."""
    try:
        return load()
    except DatabaseBusy:
        st.warning(t("app.database_busy"))
    except StorageError as exc:
        st.error(t("app.cannot_read"))
        st.text(str(exc))
    return None
