"""事件 / Incidents: the queue of cases in the sidebar's filter, then the incident brief.

The queue lists cases (alerts/cases.py): the incidents one event raised for the brand, its
product, aspects and channels are one row, and an action on a case is logged on each of its
incidents. The brief leads with what a duty manager needs in ten seconds (one sentence from
stored facts, the tier and its response deadline, the owner, the status), then the evidence
(the scope's series against its expected band, channels and aspects, the keywords, the
driving mentions), a suggested first response, the related incidents and the actions, each
named for what it does and how many incidents it changes. The brief is a link
(/incidents?incident=ID) and prints as a clean page (the browser's print hides the sidebar).

Every value shown is a stored fact (storage/incidents.py). Keywords, scope values and
mention text come from strangers: they appear only in st.dataframe cells, st.text or
HTML-escaped in st.html, masked with koubei.privacy.mask_pii; links only when http/https.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from alerts.cases import Case
from alerts.config import load_alert_settings
from alerts.delivery import queue_assignment
from dashboard import auth, brief, charts, data, url
from dashboard.components import escaped, local_times, masked, safe_url, when
from dashboard.filters import current
from dashboard.i18n import aspect_name, remember, scope_value_words, t, t_value
from koubei.config import load_settings
from koubei.privacy import mask_pii
from storage import Store, users
from storage import incidents as inc
from storage.users import Forbidden

STATUS_KEY = "incidents_status"
PICK_KEY = "incidents_pick"
SEEN_KEY = "incidents_link"  # the ?incident= last followed, so a new link wins over an old pick
DIALOG_KEY = "incidents_dialog"
FLASH_KEY = "incidents_flash"
# Which of a case's incidents an action moves: acknowledging must not reopen a resolved one.
ACTS_ON = {
    "acknowledge": ("open",),
    "resolve": ("open", "acknowledged"),
    "respond": inc.INCIDENT_STATUSES,
    "assign": ("open", "acknowledged"),
}
BUTTONS = {
    "acknowledge": "incidents.act_ack",
    "resolve": "incidents.act_resolve",
    "respond": "incidents.act_respond",
    "assign": "incidents.act_assign",
}
DIALOGS = {
    "acknowledge": "incidents.dialog_ack",
    "resolve": "incidents.dialog_resolve",
    "respond": "incidents.dialog_respond",
    "assign": "incidents.dialog_assign",
}
CHANGES = {
    "acknowledge": "incidents.will_ack",
    "resolve": "incidents.will_resolve",
    "respond": "incidents.will_respond",
    "assign": "incidents.will_assign",
}
TIME_FORMAT = "YYYY-MM-DD HH:mm"
PRINT_CSS = """<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  .st-key-incidents_queue, .st-key-incidents_actions, .modebar-container,
  .st-key-brief_use_reply { display: none !important; }
  .stMain, .block-container { padding: 0 !important; max-width: 100% !important; }
}
.brief-headline { font-size: 1.25rem; font-weight: 600; line-height: 1.6; margin: 0.2rem 0 0.6rem; }
.brief-line-met, .brief-line-open { color: #1e7b34; }
.brief-line-missed, .brief-line-overdue { color: #b42318; font-weight: 600; }
.brief-chip { display: inline-block; border: 1px solid #ccc; border-radius: 1rem; padding: 0 0.6rem; margin: 0 0.3rem 0.3rem 0; }
</style>"""


def scope_words(incident: inc.Incident) -> str:
    """ "产品 声浪P20充电宝" in plain text (for st.text, a selectbox, a dataframe cell: masked)."""
    value = scope_value_words(incident.scope_type, incident.scope_value)
    return mask_pii(f"{t_value('scope', incident.scope_type)} {value}")


def case_label(case: Case[inc.Incident]) -> str:
    more = t("incidents.pick_more", n=len(case.related)) if case.related else ""
    return (
        f"{t('incidents.tier_short', n=case.severity)} · {t_value('status', case.status)} · "
        f"{t_value('kind', case.lead.kind)} · {scope_words(case.lead)}{more}"
    )


def listing(cases: list[Case[inc.Incident]], tz: str) -> pd.DataFrame:
    rows = [
        {
            "status": t_value("status", c.status),
            "tier": c.severity,
            "kind": t_value("kind", c.lead.kind),
            "brand": c.lead.brand or "",
            "scope": scope_words(c.lead),
            "related": len(c.related),
            "start": c.window[0],
            "end": c.window[1],
            "factor": c.lead.factor,
            "keywords": "、".join(c.lead.keywords),
        }
        for c in cases
    ]
    return local_times(masked(pd.DataFrame(rows), ["brand", "keywords"]), ["start", "end"], tz)


def queue_table(frame: pd.DataFrame, key: str) -> None:
    col = st.column_config
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key=key,
        column_config={
            "status": col.TextColumn(t("col.status")),
            "tier": col.NumberColumn(t("incidents.col_tier"), format="%d"),
            "kind": col.TextColumn(t("col.kind")),
            "brand": col.TextColumn(t("col.brand")),
            "scope": col.TextColumn(t("col.scope")),
            "related": col.NumberColumn(t("col.related"), format="+%d"),
            "start": col.DatetimeColumn(t("col.window_start"), format=TIME_FORMAT),
            "end": col.DatetimeColumn(t("col.window_end"), format=TIME_FORMAT),
            "factor": col.NumberColumn(t("incidents.col_factor"), format="%.1f"),
            "keywords": col.TextColumn(t("col.keywords")),
        },
    )


def targets(case: Case[inc.Incident], action: str) -> list[inc.Incident]:
    return [m for m in case.members if m.status in ACTS_ON[action]]


def log_action(incident_ids: list[str], action: str, typed_actor: str, note: str | None) -> None:
    """The one write path of the page's actions: refused unless the signed-in role may respond
    (storage checks it again), logged with the signed-in user (or, without sign-in, the typed name)."""
    st.session_state.pop(DIALOG_KEY, None)
    if not auth.require("respond"):
        return
    at = datetime.now(UTC).replace(tzinfo=None)
    actor = auth.actor(typed_actor)
    try:
        with data.writing() as store:
            for incident_id in incident_ids:
                inc.log_response(store, incident_id, action, actor, note, at)
            if action == "assign" and note:
                notify_assignee(store, incident_ids, note, at)
    except Forbidden:
        st.session_state[auth.NOTICE_KEY] = t("auth.refused", role=t_value("role", actor.role))
        return
    data.changed()
    st.session_state[FLASH_KEY] = t("incidents.saved", action=t_value("action", action), n=len(incident_ids))


def notify_assignee(store: Store, incident_ids: list[str], assignee: str, at: datetime) -> None:
    """The assigned user hears of it through the channels the incident's routes use (the outbox)."""
    cfg = load_alert_settings(load_settings())
    for incident_id in incident_ids:
        incident = inc.get_incident(store, incident_id)
        if incident is not None:
            queue_assignment(store, cfg, incident, inc.incident_mentions(store, incident_id), assignee, at)


def dismissed() -> None:
    """A dialog closed with Esc or its ×: it stays closed on the next click elsewhere."""
    st.session_state.pop(DIALOG_KEY, None)


def action_dialog(action: str) -> Callable[[list[inc.Incident]], None]:
    """The dialog of one action, titled with it; it says what it will change before it does."""

    def body(members: list[inc.Incident]) -> None:
        st.write(t(CHANGES[action], n=len(members)))
        st.text("\n".join(f"· {scope_words(m)}" for m in members))
        with st.form(f"incidents_form_{action}"):
            session = auth.current()
            if session is None:
                actor = st.text_input(t("incidents.actor"), value=t("incidents.actor_default"))
            else:  # the signed-in user acts; nobody types someone else's name
                st.text(t("incidents.signed_in_actor", name=session.name))
                actor = session.name
            if action == "assign":
                note = st.selectbox(t("incidents.assignee"), assignable()) or ""
            else:
                note = st.text_area(t("incidents.note_required") if action == "respond" else t("incidents.note"))
            if st.form_submit_button(t(BUTTONS[action], n=len(members)), type="primary"):
                if action == "respond" and not note.strip():
                    st.error(t("incidents.need_note"))
                    return
                log_action([m.id for m in members], action, actor, note.strip() or None)
                st.rerun()

    return st.dialog(t(DIALOGS[action]), on_dismiss=dismissed)(body)


def open_dialog(action: str) -> None:
    st.session_state[DIALOG_KEY] = action


@st.cache_data(ttl=data.CACHE_TTL, max_entries=1, show_spinner=False)
def assignable() -> list[str]:
    """The active accounts an incident can be assigned to."""
    with data.reading() as store:
        return users.names(store) if users.any_accounts(store) else []


def use_reply(case: Case[inc.Incident], key: str) -> None:
    """The suggested response, as edited, goes into the response log of every incident of the case."""
    text = str(st.session_state.get(key) or "").strip()
    if text:
        log_action([m.id for m in case.members], "respond", t("incidents.actor_default"), text)


def pick(cases: list[Case[inc.Incident]]) -> str | None:
    """The incident the brief shows: a followed link (?incident=ID) first, else the picker's choice."""
    link = st.query_params.get(url.BRIEF_PARAM)
    ids = [c.lead.id for c in cases]
    if link and link not in ids:
        ids.insert(0, link)  # a shared link to an incident outside the filter still opens
    if not ids:
        return None
    key = remember(PICK_KEY, ids[0])
    if link and link != st.session_state.get(SEEN_KEY):
        st.session_state[key] = link
    if st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    labels = {c.lead.id: case_label(c) for c in cases}
    chosen = st.selectbox(t("incidents.pick"), ids, key=key, format_func=lambda i: labels.get(i, i))
    st.session_state[PICK_KEY] = st.session_state[SEEN_KEY] = chosen
    url.keep(url.BRIEF_PARAM, chosen)
    return str(chosen)


def facts_line(b: data.BriefData, tz: str) -> None:
    """Tier and deadline, owner, status: one line each, our own words (names escaped)."""
    case = b.case
    due = brief.deadline(case)
    now = datetime.now(UTC).replace(tzinfo=None)
    state, line = brief.deadline_line(due, now, tz) if due else ("open", t("brief.no_deadline"))
    told = [str(c) for c in b.deliveries.loc[b.deliveries["status"] == "sent", "channel"]] if len(b.deliveries) else []
    cols = st.columns([1, 1, 2.2])  # the window needs room for two dates in either language
    cols[0].metric(t("brief.tier"), t("brief.tier_value", n=case.severity, what=t_value("tier", case.severity)))
    cols[1].metric(t("col.status"), t_value("status", case.status))
    start, end = case.window
    same_day = when(start, tz, "%m-%d") == when(end, tz, "%m-%d")
    cols[2].metric(t("brief.window"), f"{when(start, tz)} – {when(end, tz, '%H:%M' if same_day else '%m-%d %H:%M')}")
    st.html(f'<p class="brief-line-{state}">{line}</p><p>{brief.owner(case, b.log, told)}</p>')
    if assigned := inc.assignee(b.log):
        st.text(t("incidents.assigned_to", name=assigned))


def evidence(b: data.BriefData, tz: str) -> None:
    incident = b.incident
    if b.trace is not None and len(b.trace):
        st.subheader(t("brief.series"))
        st.plotly_chart(charts.scope_figure(b.trace, incident, tz), key="brief_series", config={"displaylogo": False})
    left, right = st.columns(2)
    if incident.sources:
        left.subheader(t("brief.by_channel"))
        left.plotly_chart(
            charts.breakdown_figure([s.source for s in incident.sources], [s.count for s in incident.sources]),
            key="brief_channels",
            config={"displaylogo": False},
        )
    if incident.aspects:
        right.subheader(t("brief.by_aspect"))
        right.plotly_chart(
            charts.breakdown_figure(
                [aspect_name(a.aspect) for a in incident.aspects],
                [a.observed for a in incident.aspects],
                [a.expected for a in incident.aspects],
            ),
            key="brief_aspects",
            config={"displaylogo": False},
        )
    if incident.keywords:
        st.subheader(t("brief.keywords"))
        st.html("".join(f'<span class="brief-chip">{escaped(k)}</span>' for k in incident.keywords))
    st.subheader(t("brief.mentions"))
    st.caption(t("brief.excluded", n=b.excluded))
    if not b.mentions:
        st.info(t("brief.no_mentions"))
        return
    frame = pd.DataFrame(b.mentions).sort_values("reach", ascending=False)
    frame["url"] = frame["url"].map(safe_url)
    frame["label"] = frame["label"].map(lambda v: t_value("label", v) if isinstance(v, str) else "")
    shown = local_times(
        masked(frame[["published_at", "source", "reach", "label", "text", "url"]], ["text"]), ["published_at"], tz
    )
    col = st.column_config
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key="brief_mentions",
        column_config={
            "published_at": col.DatetimeColumn(t("col.time"), format="MM-DD HH:mm"),
            "source": col.TextColumn(t("col.source")),
            "reach": col.NumberColumn(t("col.reach"), format="%d"),
            "label": col.TextColumn(t("col.label")),
            "text": col.TextColumn(t("col.text"), width="large"),
            "url": col.LinkColumn(t("col.link"), display_text=t("overview.open_link")),
        },
    )


def response_section(b: data.BriefData, signals: list[brief.SignalCount]) -> None:
    st.subheader(t("brief.reply"))
    key = f"brief_reply_{b.case.lead.id}"
    st.text_area(t("brief.reply_edit"), value=brief.suggested_response(b.incident, signals), key=key, height=110)
    st.button(
        t("brief.use_reply"),
        key="brief_use_reply",
        on_click=use_reply,
        args=(b.case, key),
        icon=":material/send:",
        disabled=not auth.allowed("respond"),
    )


def actions(case: Case[inc.Incident]) -> None:
    with st.container(key="incidents_actions"):
        st.subheader(t("brief.actions"))
        # Assigning needs accounts to assign to; without them the page is as it always was.
        shown = [a for a in BUTTONS if a != "assign" or assignable()]
        may_act = auth.allowed("respond")
        for column, action in zip(st.columns(len(shown)), shown, strict=True):
            n = len(targets(case, action))
            column.button(
                t(BUTTONS[action], n=n),
                on_click=open_dialog,
                args=(action,),
                key=f"inc_btn_{action}",
                disabled=n == 0 or not may_act,
            )
    if pending := st.session_state.get(DIALOG_KEY):
        members = targets(case, pending)
        if members:
            action_dialog(pending)(members)
        else:
            st.session_state.pop(DIALOG_KEY, None)


def response_log(b: data.BriefData, tz: str) -> None:
    st.subheader(t("incidents.log"))
    if not b.log:
        st.info(t("brief.log_empty"))
        return
    entries = pd.DataFrame(
        [
            {"acted_at": e.acted_at, "actor": e.actor, "action": t_value("action", e.action), "note": e.note or ""}
            for e in b.log
        ]
    )
    entries = local_times(masked(entries, ["actor", "note"]), ["acted_at"], tz)
    st.dataframe(
        entries,
        hide_index=True,
        width="stretch",
        key="incident_log",
        column_config={
            "acted_at": st.column_config.DatetimeColumn(t("col.time"), format=TIME_FORMAT),
            "actor": st.column_config.TextColumn(t("incidents.col_actor")),
            "action": st.column_config.TextColumn(t("incidents.col_action")),
            "note": st.column_config.TextColumn(t("incidents.col_note")),
        },
    )


def render_brief(b: data.BriefData, tz: str) -> None:
    signals = brief.red_signals(b.urgent_reasons)
    st.html(f'<p class="brief-headline">{brief.headline(b.incident, signals, tz)}</p>')
    if not all(m.reliable for m in b.case.members):
        st.warning(t("incidents.unreliable"))
    facts_line(b, tz)
    actions(b.case)
    evidence(b, tz)
    response_section(b, signals)
    if b.case.related:
        with st.expander(t("brief.related", n=len(b.case.related)), expanded=False):
            queue_table(listing([Case((m,)) for m in b.case.related], tz), key="brief_related")
    response_log(b, tz)
    st.caption(t("brief.share", link=f"/incidents?{url.BRIEF_PARAM}={b.incident.id}"))


def main() -> None:
    st.html(PRINT_CSS)
    auth.notice()
    if flash := st.session_state.pop(FLASH_KEY, None):
        st.success(flash)  # our own words and a count
    f = current()
    if f is None:  # the entrypoint found no data and said so
        st.header(t("incidents.title"))
        return
    db = str(data.db_path())
    with st.container(key="incidents_queue"):  # printed, the brief stands alone
        st.header(t("incidents.title"))
        statuses = st.multiselect(
            t("incidents.status_filter"),
            list(inc.INCIDENT_STATUSES),
            format_func=lambda s: t_value("status", s),
            key=remember(STATUS_KEY, ["open", "acknowledged"]),
        )
        st.session_state[STATUS_KEY] = statuses
        cases = data.queue(db, f.query, tuple(statuses))
        if cases:
            st.caption(t("incidents.case_count", cases=len(cases), incidents=sum(len(c.members) for c in cases)))
            queue_table(listing(cases, f.tz), key="incidents_table")
        else:
            st.info(t("incidents.none"))
        chosen = pick(cases)
    if chosen is None:
        return
    found = data.brief(db, chosen)
    if found is None:
        st.info(t("incidents.not_found"))
        return
    render_brief(found, f.tz)


main()
