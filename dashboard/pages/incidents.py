"""Incident queue: status, tier, scope, window, observed vs expected, score, keywords,
aspects, sources, the driving mentions with their links, the response log, and the
actions acknowledge / resolve / log a response (a dialog with a form).

By default the queue lists cases (alerts/cases.py): the incidents one event raised for
the brand, its product, aspects and channels are one row, headed by the lead incident,
and an action on a case is logged on each of its incidents.

Every value shown is a stored fact (storage/incidents.py). Keywords, scope values
and mention text come from strangers: they appear only in st.dataframe cells or
st.text, masked with koubei.privacy.mask_pii; links only when http/https.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from alerts.cases import Case, group_cases
from dashboard import data
from dashboard.components import local_times, masked, safe_url
from dashboard.i18n import t, t_value
from koubei.privacy import mask_pii
from storage import incidents as inc

PICK_KEY = "incidents_pick"
DIALOG_KEY = "incidents_dialog"


@st.cache_data(ttl=data.CACHE_TTL, max_entries=16, show_spinner=False)
def load_queue(db_file: str, statuses: tuple[str, ...]) -> list[inc.Incident]:
    with data.reading() as store:
        rows = inc.list_incidents(store, limit=500)
    return [r for r in rows if r.status in statuses]


@st.cache_data(ttl=data.CACHE_TTL, max_entries=32, show_spinner=False)
def load_detail(
    db_file: str, incident_id: str
) -> tuple[inc.Incident | None, list[inc.IncidentMention], list[inc.IncidentResponse]]:
    with data.reading() as store:
        return (
            inc.get_incident(store, incident_id),
            inc.incident_mentions(store, incident_id),
            inc.responses(store, incident_id),
        )


def _minutes(a: Any, b: Any) -> float | None:
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return None
    return round((pd.Timestamp(a) - pd.Timestamp(b)).total_seconds() / 60.0, 1)


def _scope(row: inc.Incident) -> str:
    """ "产品: 声浪 / 声浪P20充电宝"; a source outage has no brand: "来源: demo.jd"."""
    brand = f"{row.brand} / " if row.brand else ""
    return f"{t_value('scope', row.scope_type)}: {brand}{row.scope_value}"


def _also(case: Case[inc.Incident]) -> str:
    """What else the case's event was flagged for: "产品 声浪P20充电宝; 来源 demo.jd、demo.weibo"."""
    scopes: dict[str, list[str]] = {}
    for member in case.related:
        scopes.setdefault(member.scope_type, []).append(member.scope_value)
    return "; ".join(
        f"{t_value('scope', scope)} {'、'.join(dict.fromkeys(values))}" for scope, values in scopes.items()
    )


def _listing(cases: list[Case[inc.Incident]], grouped: bool) -> pd.DataFrame:
    """One row per case: its lead's facts and, when `grouped`, the case's status, tier and
    overall window, how many incidents it holds besides the lead and what they are about."""
    records = [
        {
            "id": r.id,
            "status": t_value("status", r.status),
            "tier": r.severity,
            "kind": t_value("kind", r.kind),
            "scope": _scope(r),
            "start": r.window_start,
            "end": r.window_end,
            "observed": r.observed,
            "expected": r.expected,
            "factor": r.factor,
            "z": r.score,
            "keywords": "、".join(r.keywords),
            "aspects": ", ".join(f"{a.aspect} {a.observed}" for a in r.aspects),
            "sources": ", ".join(f"{s.source} {s.count}" for s in r.sources),
            "reliable": r.reliable,
            "ttfr": _minutes(r.first_response_at, r.created_at),
        }
        for r in (c.lead for c in cases)
    ]
    untrusted = ["scope", "keywords", "aspects", "sources"]
    if grouped:
        for record, case in zip(records, cases):
            start, end = case.window
            record.update(
                status=t_value("status", case.status),
                tier=case.severity,
                start=start,
                end=end,
                reliable=all(m.reliable for m in case.members),
                related=len(case.related),
                also=_also(case),
            )
        untrusted.append("also")
    frame = pd.DataFrame(records)
    if grouped:
        order = list(frame.columns)
        for column in ("also", "related"):
            order.remove(column)
            order.insert(order.index("scope") + 1, column)
        frame = frame[order]
    frame = masked(frame, untrusted)
    return local_times(frame, ["start", "end"])


def _queue_table(frame: pd.DataFrame, key: str = "incidents_table") -> None:
    col = st.column_config
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key=key,
        column_config={
            "id": col.TextColumn("ID"),
            "status": col.TextColumn(t("col.status")),
            "tier": col.NumberColumn(t("incidents.col_tier"), format="%d"),
            "kind": col.TextColumn(t("col.kind")),
            "scope": col.TextColumn(t("col.scope")),
            "related": col.NumberColumn(t("col.related"), format="%d"),
            "also": col.TextColumn(t("incidents.col_also")),
            "start": col.DatetimeColumn(t("col.window_start"), format="YYYY-MM-DD HH:mm"),
            "end": col.DatetimeColumn(t("col.window_end"), format="YYYY-MM-DD HH:mm"),
            "observed": col.NumberColumn(t("incidents.col_observed"), format="%.0f"),
            "expected": col.NumberColumn(t("incidents.col_expected"), format="%.1f"),
            "factor": col.NumberColumn(t("incidents.col_factor"), format="%.1f"),
            "z": col.NumberColumn(t("incidents.col_z"), format="%.1f"),
            "keywords": col.TextColumn(t("col.keywords")),
            "aspects": col.TextColumn(t("incidents.col_aspects")),
            "sources": col.TextColumn(t("incidents.col_sources")),
            "reliable": col.CheckboxColumn(t("incidents.col_reliable")),
            "ttfr": col.NumberColumn(t("incidents.col_ttfr"), format="%.0f"),
        },
    )


# Which of a case's incidents an action moves: acknowledging must not reopen a resolved one.
_ACTS_ON = {"acknowledge": ("open",), "resolve": ("open", "acknowledged"), "respond": inc.INCIDENT_STATUSES}


def _targets(case: Case[inc.Incident], action: str) -> list[str]:
    return [m.id for m in case.members if m.status in _ACTS_ON[action]]


@st.dialog("处理事件 / Handle incident")
def action_dialog(incident_ids: list[str], action: str) -> None:
    with st.form("incident_action_form"):
        actor = st.text_input(t("incidents.actor"), value="值班经理")
        note = st.text_area(t("incidents.note"))
        if st.form_submit_button(t("incidents.save")):
            if action == "respond" and not note.strip():
                st.error(t("incidents.need_note"))
                return
            at = datetime.now(UTC).replace(tzinfo=None)
            with data.writing() as store:
                for incident_id in incident_ids:
                    inc.log_response(store, incident_id, action, actor.strip() or "dashboard", note.strip() or None, at)
            load_queue.clear()
            load_detail.clear()
            st.session_state.pop(DIALOG_KEY, None)
            st.session_state["incidents_flash"] = t("incidents.saved", action=t_value("action", action))
            st.rerun()


def _open_dialog(incident_id: str, action: str) -> None:
    st.session_state[DIALOG_KEY] = (incident_id, action)


def _facts(row: inc.Incident) -> pd.DataFrame:
    facts = [
        ("ID", row.id),
        (t("col.status"), t_value("status", row.status)),
        (t("incidents.col_tier"), str(row.severity)),
        (t("col.kind"), t_value("kind", row.kind)),
        (t("col.scope"), _scope(row)),
        (
            "UTC",
            f"{row.window_start:%Y-%m-%d %H:%M} ~ {row.window_end:%Y-%m-%d %H:%M} (peak {row.peak_at:%m-%d %H:%M})",
        ),
        (t("incidents.col_observed"), f"{row.observed:.0f}"),
        (t("incidents.col_expected"), f"{row.expected:.1f}"),
        (t("incidents.col_factor"), "" if row.factor is None else f"{row.factor:.1f}"),
        (t("incidents.col_z"), f"{row.score:.1f}"),
        (t("col.keywords"), "、".join(row.keywords)),
        (
            t("incidents.col_aspects"),
            ", ".join(f"{a.aspect} {a.observed} (exp {a.expected})" for a in row.aspects),
        ),
        (t("incidents.col_sources"), ", ".join(f"{s.source} {s.count}" for s in row.sources)),
        (t("incidents.col_reliable"), "yes" if row.reliable else f"no: {row.note or ''}"),
        (
            t("incidents.ttfr"),
            "" if row.first_response_at is None else f"{_minutes(row.first_response_at, row.created_at)} min",
        ),
    ]
    return pd.DataFrame([{"field": k, "value": mask_pii(str(v))} for k, v in facts])


def main() -> None:
    st.header(t("incidents.title"))
    st.caption(t("incidents.intro"))
    if flash := st.session_state.pop("incidents_flash", None):
        st.success(flash)
    db_file = str(data.db_path())
    statuses = st.multiselect(
        t("incidents.status_filter"),
        list(inc.INCIDENT_STATUSES),
        default=["open", "acknowledged"],
        format_func=lambda s: t_value("status", s),
        key="incidents_status",
    )
    grouped = st.toggle(t("incidents.grouped"), value=True, key="incidents_grouped", help=t("incidents.grouped_help"))
    rows = load_queue(db_file, tuple(statuses))
    if not rows:
        st.info(t("incidents.none"))
        return
    cases = group_cases(rows) if grouped else [Case((r,)) for r in rows]
    if grouped:
        st.caption(t("incidents.case_count", cases=len(cases), incidents=len(rows)))
    _queue_table(_listing(cases, grouped))

    by_id = {c.id: c for c in cases}
    labels = {
        c.id: f"[{c.severity}] {t_value('kind', c.lead.kind)} · {_scope(c.lead)}"
        + (f" (+{len(c.related)})" if c.related else "")
        + f" · {c.id}"
        for c in cases
    }
    if st.session_state.get(PICK_KEY) not in by_id:
        st.session_state[PICK_KEY] = cases[0].id
    # Labels are shown in a selectbox: masked, and a selectbox renders plain text only.
    picked = st.selectbox(
        t("incidents.pick"), list(by_id), key=PICK_KEY, format_func=lambda i: mask_pii(labels.get(i, i))
    )
    case = by_id[picked]
    row, mentions, log = load_detail(db_file, picked)
    if row is None:
        st.info(t("incidents.none"))
        return
    if not all(m.reliable for m in case.members):
        st.warning(t("incidents.unreliable"))

    c1, c2, c3 = st.columns(3)
    buttons = (
        (c1, "acknowledge", "ack", "incidents.ack"),
        (c2, "resolve", "resolve", "incidents.resolve"),
        (c3, "respond", "respond", "incidents.respond"),
    )
    for column, action, short, label in buttons:
        column.button(
            t(label),
            on_click=_open_dialog,
            args=(picked, action),
            key=f"inc_btn_{short}",
            disabled=not _targets(case, action),
        )
    if case.related:
        st.caption(t("incidents.case_applies", n=len(case.members)))
    if (pending := st.session_state.get(DIALOG_KEY)) and pending[0] == picked:
        action_dialog(_targets(case, pending[1]), pending[1])

    st.subheader(t("incidents.facts"))
    st.dataframe(
        _facts(row),
        hide_index=True,
        width="stretch",
        key="incident_facts",
        column_config={
            "field": st.column_config.TextColumn(t("incidents.col_field")),
            "value": st.column_config.TextColumn(t("incidents.col_value")),
        },
    )
    if case.related:
        st.subheader(t("incidents.related"))
        _queue_table(_listing([Case((m,)) for m in case.related], grouped=False), key="incident_related")
    st.subheader(t("incidents.mentions"))
    if mentions:
        ments = pd.DataFrame(mentions)
        ments["url"] = ments["url"].map(safe_url)
        ments = local_times(
            masked(ments[["rank", "source", "published_at", "reach", "text", "url"]], ["text"]), ["published_at"]
        )
        st.dataframe(
            ments,
            hide_index=True,
            width="stretch",
            key="incident_mentions",
            column_config={
                "rank": st.column_config.NumberColumn(t("col.rank"), format="%d"),
                "source": st.column_config.TextColumn(t("incidents.col_sources")),
                "published_at": st.column_config.DatetimeColumn(t("col.time"), format="MM-DD HH:mm"),
                "reach": st.column_config.NumberColumn("reach", format="%d"),
                "text": st.column_config.TextColumn("text", width="large"),
                "url": st.column_config.LinkColumn("link"),
            },
        )
    st.subheader(t("incidents.log"))
    if log:
        entries = pd.DataFrame(
            [
                {
                    "acted_at": e.acted_at,
                    "actor": e.actor,
                    "action": t_value("action", e.action),
                    "note": e.note or "",
                }
                for e in log
            ]
        )
        entries = local_times(masked(entries, ["actor", "note"]), ["acted_at"])
        st.dataframe(
            entries,
            hide_index=True,
            width="stretch",
            key="incident_log",
            column_config={
                "acted_at": st.column_config.DatetimeColumn(t("col.time"), format="YYYY-MM-DD HH:mm"),
                "actor": st.column_config.TextColumn(t("incidents.col_actor")),
                "action": st.column_config.TextColumn(t("incidents.col_action")),
                "note": st.column_config.TextColumn(t("incidents.col_note")),
            },
        )


main()
