"""People's sentiment and tier corrections made in a table (the triage and mentions pages'
st.data_editor), read from the editor's edited rows and stored through storage/sentiment.py."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import auth, data
from dashboard.i18n import t, t_value
from storage import sentiment as db
from storage.users import Actor, Forbidden


def label_choice(code: object) -> str:
    """A label code as the editor's choice shows it (empty for none)."""
    return t_value("label", code) if code else ""


def save_and_notify(editor_key: str, rows: pd.DataFrame, notice_key: str, no_changes: str, saved: str) -> bool:
    """on_click of a page's save button: store the edits as the signed-in user and leave the page's
    notice (strings `no_changes` or `saved`) for its next run; True when something was stored, so
    the page's cached rows are stale."""
    count = save_as_signed_in(st.session_state.get(editor_key), rows)
    if count is None:
        return False
    st.session_state[notice_key] = t(saved, n=count) if count else t(no_changes)
    return count > 0


def save_as_signed_in(editor_state: dict[str, Any] | None, rows: pd.DataFrame) -> int | None:
    """save_edited as the signed-in user; None when their role may not correct (refused here and
    again by storage), with the refusal left for the next run to show."""
    if not auth.require("correct"):
        return None
    actor = auth.actor()
    try:
        return save_edited(editor_state, rows, actor)
    except Forbidden:
        st.session_state[auth.NOTICE_KEY] = t("auth.refused", role=t_value("role", actor.role))
        return None


def save_edited(editor_state: dict[str, Any] | None, rows: pd.DataFrame, actor: Actor | None = None) -> int:
    """Store the labels and tiers edited in the editor over `rows` (with source, native_id,
    corrected_label and corrected_tier columns); returns how many were stored. With an actor (the
    signed-in user) storage checks its role, names it on the corrections and audits them."""
    labels: list[tuple[str, str, str]] = []
    tiers: list[tuple[str, str, int]] = []
    for row, edits in ((editor_state or {}).get("edited_rows") or {}).items():
        index = int(row)
        if index >= len(rows):
            continue
        item = rows.iloc[index]
        key = (str(item["source"]), str(item["native_id"]))
        label, tier = edits.get("corrected_label"), edits.get("corrected_tier")
        if label in ("pos", "neu", "neg") and label != item["corrected_label"]:
            labels.append((*key, label))
        if tier in db.TIERS and (pd.isna(item["corrected_tier"]) or tier != int(item["corrected_tier"])):
            tiers.append((*key, int(tier)))
    if labels or tiers:
        with data.writing() as store:
            db.save_labels(store, labels, actor)
            db.save_tier_labels(store, tiers, actor)
    return len(labels) + len(tiers)
