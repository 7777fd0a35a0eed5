"""审计日志 / Audit log: every change of state, who, when, what, from where (admins only).

Read-only by construction: the page reads storage.audit.entries and offers no
control that writes. Names and details may hold what people typed (a user name,
an e-mail): they appear only in st.dataframe cells.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard import auth, data
from dashboard.components import local_times
from dashboard.i18n import t
from storage.audit import entries

LIMIT = 2000  # the newest entries shown; `koubei audit` prints them all


def frame(tz: str) -> pd.DataFrame:
    with data.reading() as store:
        found = entries(store)[-LIMIT:]
    rows = [
        {
            "logged_at": e.logged_at,
            "actor": e.actor,
            "origin": e.origin,
            "action": e.action,
            "target": e.target or "",
            "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
        }
        for e in reversed(found)
    ]
    columns = ["logged_at", "actor", "origin", "action", "target", "detail"]
    return local_times(pd.DataFrame(rows, columns=columns), ["logged_at"], tz)


def main() -> None:
    st.title(t("audit.title"))
    if not auth.require("audit"):  # the page is listed for admins only; a typed URL is refused too
        auth.notice()
        return
    st.caption(t("audit.intro"))
    shown = frame(data.display_tz())
    if shown.empty:
        st.info(t("audit.none"))
        return
    actions = sorted(set(shown["action"]))
    chosen = st.multiselect(t("audit.action_filter"), actions, key="audit_actions")
    if chosen:
        shown = shown[shown["action"].isin(chosen)]
    col = st.column_config
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key="audit_table",
        column_config={
            "logged_at": col.DatetimeColumn(t("col.time"), format="YYYY-MM-DD HH:mm:ss"),
            "actor": col.TextColumn(t("audit.col_actor")),
            "origin": col.TextColumn(t("audit.col_origin")),
            "action": col.TextColumn(t("audit.col_action")),
            "target": col.TextColumn(t("audit.col_target")),
            "detail": col.TextColumn(t("audit.col_detail"), width="large"),
        },
    )


main()
