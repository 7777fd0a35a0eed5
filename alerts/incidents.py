"""Keeping incidents: one per ongoing burst, stored with its facts, alerted when new or worse.

A new onset close to an unresolved incident of the same scope extends it
(within `merge_gap`); a burst that brings nothing new since the last pass, or
since someone resolved it, is left alone. A stored incident is queued for
delivery when it opens or grows a tier, unless it ended more than a day ago
(history is stored, not sent at 3 a.m.) or an alerted brand incident of the same
burst already covers it (no alert storm).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alerts.config import AlertSettings
from alerts.delivery import queue_alert
from alerts.facts import BASELINE, gather_facts, scope_window
from storage import Store
from storage import incidents as stored
from storage.alerts_series import PassRows
from storage.incidents import Incident, IncidentMention

ALERT_HORIZON = timedelta(hours=24)  # incidents that ended longer ago are stored, not sent


@dataclass(frozen=True)
class Recorded:
    """What storing one incident did."""

    incident_id: str
    opened: bool  # a new incident (else an existing one was updated)
    event: str | None  # the alert queued for it: opened | escalated:<tier>; None when none was due
    queued: int  # outbox rows added (one per matching route and channel)


def _merged(incident: Incident, into: Incident) -> Incident:
    """`incident` as an extension of the unresolved incident `into` of the same burst."""
    peak = into if into.score >= incident.score else incident
    return replace(
        incident,
        id=into.id,
        window_start=into.window_start,
        window_end=max(into.window_end, incident.window_end),
        severity=max(into.severity, incident.severity),
        peak_at=peak.peak_at,
        observed=peak.observed,
        expected=peak.expected,
        score=peak.score,
        factor=peak.factor,
    )


def _nothing_new(incident: Incident, existing: Incident) -> bool:
    if existing.status == "resolved" and incident.window_end <= existing.window_end:
        return True  # nothing new since someone resolved it
    # The same burst as last pass: its facts are stored, nothing to recompute or send.
    return (
        incident.window_end <= existing.window_end
        and incident.severity <= existing.severity
        and incident.score <= existing.score
        and incident.reliable == existing.reliable
    )


def _covered(store: Store, incident: Incident) -> bool:
    """A product / source / aspect burst inside an alerted brand incident is part of it unless
    it is worse; so is the volume spike of a burst already alerted as a negative spike."""
    if incident.kind == "source_down":
        return False
    brand, start, end = incident.brand or "", incident.window_start, incident.window_end
    cover = None
    if incident.scope_type != "brand":
        cover = stored.covering_brand_incident(store, incident.kind, brand, start, end)
    if cover is None and incident.kind == "volume":
        cover = stored.covering_brand_incident(store, "negative", brand, start, end)
    return cover is not None and cover.severity >= incident.severity


def _alert_event(store: Store, incident: Incident, existing: Incident | None, now: datetime) -> str | None:
    alerted = existing.alerted_severity if existing else None
    if incident.window_end < now - ALERT_HORIZON:
        return None  # history: stored for the record and the dashboard, not sent
    if alerted is not None and incident.severity <= alerted:
        return None
    if _covered(store, incident):
        return None
    return "opened" if alerted is None else f"escalated:{incident.severity}"


def record(
    open_store: Callable[[], Store],
    cfg: AlertSettings,
    incident: Incident,
    mentions: Sequence[IncidentMention] | None,
    now: datetime,
) -> Recorded | None:
    """Store one incident (merged into an unresolved one of the same burst) and queue its alert;
    `mentions` None means: gather the facts for the final window here. None when nothing changed."""
    with open_store() as store:
        return record_in(store, cfg, incident, mentions, now)


def _resolved(store: Store, cfg: AlertSettings, incident: Incident) -> tuple[Incident, Incident | None] | None:
    """The incident as it would be stored (merged into an unresolved one of the same burst) and
    the stored one it updates; None when it brings nothing new."""
    existing = stored.get_incident(store, incident.id)
    if existing is None and incident.kind != "source_down":
        merge = stored.find_mergeable(
            store,
            incident.kind,
            incident.scope_type,
            incident.brand or "",
            incident.scope_value,
            incident.window_start - cfg.merge_gap,
        )
        if merge is not None and merge.window_start <= incident.window_start:
            existing, incident = merge, _merged(incident, merge)
    if existing is not None and _nothing_new(incident, existing):
        return None
    return incident, existing


def facts_reach(store: Store, cfg: AlertSettings, incident: Incident) -> tuple[str, datetime, datetime] | None:
    """(brand, since, until): the mentions recording `incident` would read its facts from, as the
    store is now (None: it would not gather facts). A detection pass reads these for all its
    incidents at once (PassRows) before recording them one by one."""
    resolved = _resolved(store, cfg, incident)
    if resolved is None:
        return None
    window = scope_window(resolved[0])
    return window.brand, window.start - BASELINE, window.end


def record_in(
    store: Store,
    cfg: AlertSettings,
    incident: Incident,
    mentions: Sequence[IncidentMention] | None,
    now: datetime,
    recent: PassRows | None = None,
) -> Recorded | None:
    """`record` in an open store (a detection pass records all its incidents in one, their
    facts' rows read once for the pass: `recent`)."""
    resolved = _resolved(store, cfg, incident)
    if resolved is None:
        return None
    incident, existing = resolved
    if mentions is None:
        mentions, incident = gather_facts(store, cfg, incident, recent)
    incident = replace(
        incident,
        created_at=existing.created_at if existing else now,
        updated_at=now,
        status=existing.status if existing else "open",
    )
    stored.save_incident(store, incident, [(m.source, m.native_id) for m in mentions])
    event = _alert_event(store, incident, existing, now)
    queued = 0
    if event is not None:
        queued = queue_alert(store, cfg, incident, mentions, event, now)
        stored.set_alerted_severity(store, incident.id, incident.severity)
    return Recorded(incident.id, existing is None, event, queued)
