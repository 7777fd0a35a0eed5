"""koubei dashboard entrypoint: `koubei dashboard` (or `streamlit run streamlit_app.py`).

Draws the language switch, the shared filters (kept in the URL) and the clock every
time on the dashboard is shown in, then runs the selected page.
The database comes from $KOUBEI_DB (set by `koubei dashboard`) or koubei.toml.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import streamlit as st
from streamlit.navigation.page import StreamlitPage

# `streamlit run` puts this file's folder on sys.path; make sure of it anyway so
# the packages import from a checkout that is not installed.
ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import auth, data, filters
from dashboard.i18n import t
from sentiment.segmenter import warm_in_background
from storage import DatabaseBusy, StorageError

# A file, not a :material/...: icon or an emoji, which the browser would fetch from a font CDN
# (offline, or blocked in mainland China, the tab would have no icon).
st.set_page_config(page_title="koubei 口碑监测", page_icon=str(ROOT / "dashboard" / "icon.png"), layout="wide")

# The topics page segments texts with jieba, whose dictionary takes 0.7 CPU s (2-3 s on a loaded
# machine) to load in a new server process: loaded beside the first page a session opens (once per
# server), it is ready, or nearly, when someone opens the topics page (docs/performance.md).
warm_in_background()

filters.language_switch()

# (file, title key, url path, section key)
PAGES = [
    ("dashboard/overview.py", "app.page_overview", "overview", "app.nav_monitor"),
    ("dashboard/pages/triage.py", "app.page_triage", "triage", "app.nav_monitor"),
    ("dashboard/pages/mentions.py", "app.page_mentions", "mentions", "app.nav_monitor"),
    ("dashboard/pages/topics.py", "app.page_topics", "topics", "app.nav_monitor"),
    ("dashboard/pages/incidents.py", "app.page_incidents", "incidents", "app.nav_manage"),
    ("dashboard/pages/reports.py", "app.page_reports", "reports", "app.nav_manage"),
    ("dashboard/pages/settings.py", "app.page_settings", "settings", "app.nav_manage"),
    ("dashboard/pages/sources.py", "app.page_sources", "sources", "app.nav_manage"),
]
# Pages only some roles see, by the permission they need (listed only when someone signed in has it).
RESTRICTED_PAGES = [("dashboard/pages/audit.py", "app.page_audit", "audit", "app.nav_manage", "audit")]


def navigation(session: auth.Session | None, hidden: bool = False) -> StreamlitPage:
    sections: dict[str, list[StreamlitPage]] = {}
    shown = PAGES + [page[:4] for page in RESTRICTED_PAGES if session is not None and auth.allowed(page[4])]
    for path, title, url_path, section in shown:
        page = st.Page(str(ROOT / path), title=t(title), url_path=url_path, default=url_path == "overview")
        sections.setdefault(t(section), []).append(page)
    return st.navigation(sections, position="hidden" if hidden else "sidebar")


def utc_offset(tz: str) -> str:
    """The zone's offset from UTC now, as "UTC+08:00"."""
    offset = datetime.now(ZoneInfo(tz)).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


# With sign-in configured, stops at the sign-in form until someone signs in.
session = auth.gate(lambda: navigation(None, hidden=True))
if session is not None:
    auth.sidebar(session)
page = navigation(session)

try:
    options = data.filter_options(str(data.db_path()))
except DatabaseBusy:
    # A writer held the file for the whole lock timeout: say so, then try again on our own.
    st.warning(t("app.database_busy"))
    time.sleep(2)
    st.rerun()
except StorageError as exc:
    st.error(t("app.no_database") if data.database_missing() else t("app.cannot_read"))
    st.text(str(exc))  # our own message: the path and what to run
    st.stop()

tz = data.display_tz()
st.caption(t("app.clock", tz=tz, offset=utc_offset(tz)))
if options["last"] is None:
    st.info(t("app.no_data"))
    st.session_state.pop(filters.FILTERS_STATE, None)
else:
    filters.render(options, tz)

page.run()
