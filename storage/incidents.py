"""Incidents, their driving mentions, the response log and the alert outbox.

Incident ids are stable (a hash of kind, scope and window start), so a rerun
of detection updates the same rows instead of adding new ones. Outbox rows
are keyed by (incident, channel, event): queuing the same alert twice is a
no-op, and a row moves pending -> sending -> sent (or back to pending with a
later next_attempt_at, or to dead after the last retry). A sending row is
leased to one sender until its next_attempt_at; the sender renews its leases
and checks that it still holds a row right before sending it (begin_send).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

from koubei.redaction import redact
from storage import audit, bykey, users
from storage.db import Store
from storage.users import Actor

INCIDENT_STATUSES = ("open", "acknowledged", "resolved")  # the lifecycle, in order


def stable_id(*parts: object) -> str:
    """The same parts give the same id on every run: what makes reruns update, not add."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class AspectRise:
    """A negative aspect that rose in an incident's window, against the week before."""

    aspect: str
    observed: int
    expected: float


@dataclass(frozen=True)
class SourceCount:
    source: str
    count: int


# kw_only: fields in the table's column order (what `incidents list --json` prints), defaults anywhere.
@dataclass(frozen=True, kw_only=True)
class Incident:
    id: str
    kind: str  # volume | negative | source_down
    scope_type: str  # brand | product | source | aspect
    brand: str | None  # "" or None when the scope has no brand (a source outage)
    scope_value: str
    bucket: str  # e.g. 1h
    window_start: datetime  # naive UTC, as every time below
    window_end: datetime
    peak_at: datetime
    observed: float
    expected: float
    score: float  # z at the peak
    severity: int  # 1-5, the triage tiers
    status: str = "open"  # one of INCIDENT_STATUSES
    reliable: bool = True  # False when a source feeding the scope was down
    keywords: tuple[str, ...] = ()
    aspects: tuple[AspectRise, ...] = ()
    sources: tuple[SourceCount, ...] = ()
    created_at: datetime
    updated_at: datetime
    factor: float | None = None  # observed / expected at the peak (None when nothing was expected)
    alerted_severity: int | None = None  # the tier last sent out
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    first_response_at: datetime | None = None
    rule: str | None = None
    note: str | None = None  # why reliable is false, why tier 5; built from facts


@dataclass(frozen=True)
class IncidentMention:
    """A mention that drove an incident; rank 1 has the most reach."""

    rank: int
    source: str
    native_id: str
    url: str | None
    text: str
    published_at: datetime
    reach: int
    label: str | None  # the sentiment label, None before scoring


@dataclass(frozen=True)
class IncidentResponse:
    incident_id: str
    acted_at: datetime
    actor: str
    action: str  # acknowledge | resolve | respond | reopen | assign (note: the user assigned to)
    note: str | None


@dataclass(frozen=True, kw_only=True)
class OutboxRow:
    id: str  # stable_id(incident, channel, event)
    incident_id: str
    channel: str
    route: str
    event: str  # opened | escalated:<tier>
    severity: int
    payload: dict[str, Any]  # the facts the message is built from, as sent
    status: str = "pending"  # pending | sending | sent | dead
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    lease_owner: str | None = None  # the sender holding the row while it is 'sending'


INCIDENT_FIELDS = [f.name for f in fields(Incident)]
_OUTBOX_FIELDS = [f.name for f in fields(OutboxRow)]
_INCIDENT_SELECT = f"SELECT {', '.join(INCIDENT_FIELDS)} FROM incidents"
# What a detection pass may change; the lifecycle belongs to the people handling the incident.
_LIFECYCLE = ("id", "created_at", "status", "acknowledged_at", "resolved_at", "first_response_at", "alerted_severity")


def _incident(row: tuple[Any, ...]) -> Incident:
    values = dict(zip(INCIDENT_FIELDS, row))
    aspects = json.loads(values["aspects"] or "[]")
    sources = json.loads(values["sources"] or "[]")
    return Incident(
        **{
            **values,
            "keywords": tuple(str(k) for k in json.loads(values["keywords"] or "[]")),
            "aspects": tuple(AspectRise(str(a["aspect"]), int(a["observed"]), float(a["expected"])) for a in aspects),
            "sources": tuple(SourceCount(str(s["source"]), int(s["count"])) for s in sources),
        }
    )


def incidents_where(store: Store, where: str, params: Sequence[Any]) -> list[Incident]:
    """Incidents selected by a WHERE (and ORDER/LIMIT) clause over the incidents table."""
    return [_incident(row) for row in store.query(f"{_INCIDENT_SELECT} {where}", params)]


def find_mergeable(
    store: Store, kind: str, scope_type: str, brand: str, scope_value: str, not_before: datetime
) -> Incident | None:
    """The latest unresolved incident of this kind and scope that ended at or after `not_before`."""
    rows = incidents_where(
        store,
        "WHERE kind = ? AND scope_type = ? AND coalesce(brand, '') = ? AND scope_value = ?"
        " AND status <> 'resolved' AND window_end >= ? ORDER BY window_start DESC LIMIT 1",
        [kind, scope_type, brand, scope_value, not_before],
    )
    return rows[0] if rows else None


def get_incident(store: Store, incident_id: str) -> Incident | None:
    rows = incidents_where(store, "WHERE id = ?", [incident_id])
    return rows[0] if rows else None


def save_incident(store: Store, incident: Incident, drivers: Sequence[tuple[str, str]]) -> None:
    """Insert or update one incident and replace its driving mentions ((source, native_id),
    most reach first), in one transaction. An update keeps the incident's lifecycle."""
    values = {
        **{name: getattr(incident, name) for name in INCIDENT_FIELDS},
        "keywords": json.dumps(list(incident.keywords), ensure_ascii=False),
        "aspects": json.dumps([asdict(a) for a in incident.aspects], ensure_ascii=False),
        "sources": json.dumps([asdict(s) for s in incident.sources], ensure_ascii=False),
    }
    updatable = [c for c in INCIDENT_FIELDS if c not in _LIFECYCLE]
    with store.transaction() as con:
        store.upsert(
            "incidents",
            ("id",),
            "SELECT " + ", ".join(f"? AS {c}" for c in INCIDENT_FIELDS),
            ", ".join(f"{c} = excluded.{c}" for c in updatable),
            [values[c] for c in INCIDENT_FIELDS],
        )
        con.execute("DELETE FROM incident_mentions WHERE incident_id = ?", [incident.id])
        if drivers:
            con.executemany(
                "INSERT INTO incident_mentions VALUES (?, ?, ?, ?)",
                [[incident.id, source, native_id, rank] for rank, (source, native_id) in enumerate(drivers, 1)],
            )


def list_incidents(
    store: Store, status: str | None = None, brand: str | None = None, limit: int = 200
) -> list[Incident]:
    """The queue: unresolved first, then the worst tier, then the newest."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if status:
        where.append("status = ?")
        params.append(status)
    if brand:
        where.append("brand = ?")
        params.append(brand)
    return incidents_where(
        store,
        f"WHERE {' AND '.join(where)} ORDER BY (status = 'resolved'), severity DESC, window_start DESC LIMIT ?",
        [*params, limit],
    )


def covering_brand_incident(store: Store, kind: str, brand: str, start: datetime, end: datetime) -> Incident | None:
    """An unresolved, already alerted brand-level incident of this kind overlapping [start, end]."""
    rows = incidents_where(
        store,
        "WHERE kind = ? AND scope_type = 'brand' AND coalesce(brand, '') = ? AND status <> 'resolved'"
        " AND alerted_severity IS NOT NULL AND window_start <= ? AND window_end >= ? ORDER BY severity DESC LIMIT 1",
        [kind, brand, end, start],
    )
    return rows[0] if rows else None


def incident_mentions(store: Store, incident_id: str) -> list[IncidentMention]:
    """The incident's driving mentions, by rank. Read by key: a join of incident_mentions to
    mentions and sentiment read every stored text and hashed every score for about 20 rows. The
    drivers are mentions of the incident's window, so their rows are read within it first (zone
    maps skip the rest of the table), and without it only for any not found there."""
    ranked = store.query(
        "SELECT rank, source, native_id FROM incident_mentions WHERE incident_id = ? ORDER BY rank", [incident_id]
    )
    keys = [(str(source), str(native_id)) for _, source, native_id in ranked]
    pairs = [{"source": source, "native_id": native_id} for source, native_id in keys]
    windows = store.query("SELECT window_start, window_end FROM incidents WHERE id = ?", [incident_id])
    found: dict[tuple[str, str], tuple[str | None, str, datetime, int]] = {}
    for bound in [*windows, None]:
        if not keys or len(found) == len(keys):
            break
        within = "" if bound is None else " AND published_at BETWEEN ? AND ?"
        rows = store.query(
            "SELECT source, native_id, url, text, published_at,"
            " coalesce(likes, 0) + coalesce(replies, 0) + coalesce(reposts, 0) AS reach FROM mentions"
            f" WHERE list_contains(?, {{'source': source, 'native_id': native_id}}){within}",
            [pairs, *(bound or ())],
        )
        found.update({(s, n): (url, text, at, reach) for s, n, url, text, at, reach in rows})
    labels = {
        (source, native_id): label
        for source, native_id, label in bykey.fetch(store, "source, native_id, label", "sentiment", keys, len(keys))
    }
    return [
        IncidentMention(rank, source, native_id, *found[(source, native_id)], labels.get((source, native_id)))
        for rank, source, native_id in ranked
        if (source, native_id) in found
    ]


def incident_drivers(store: Store, incident_ids: Sequence[str]) -> dict[str, frozenset[tuple[str, str]]]:
    """The (source, native_id) of each incident's driving mentions: what tells two incidents
    of the same hours apart as one event or two (alerts/cases.py)."""
    found: dict[str, set[tuple[str, str]]] = {i: set() for i in incident_ids}
    if incident_ids:
        rows = store.query(
            "SELECT incident_id, source, native_id FROM incident_mentions WHERE list_contains(?::VARCHAR[], incident_id)",
            [list(incident_ids)],
        )
        for incident_id, source, native_id in rows:
            found[incident_id].add((source, native_id))
    return {i: frozenset(keys) for i, keys in found.items()}


_ACTION_STATUS = {"acknowledge": "acknowledged", "resolve": "resolved", "reopen": "open"}


def log_response(
    store: Store, incident_id: str, action: str, actor: str | Actor, note: str | None, at: datetime
) -> None:
    """Record an action; acknowledge / resolve / reopen also move the status; assign names the
    user (in `note`) the incident is assigned to. The first action of any kind sets the time to
    first response. An Actor (a signed-in user, or a command) is checked against its role and the
    action is audited with it."""
    if action not in ("acknowledge", "resolve", "respond", "reopen", "assign"):
        raise ValueError(f"unknown action {action!r}")
    if action == "assign" and not note:
        raise ValueError("assign needs the user assigned to")
    if isinstance(actor, Actor):
        users.authorize(store, actor, "respond")
    name = actor.name if isinstance(actor, Actor) else actor
    with store.transaction() as con:
        found = con.execute("SELECT status FROM incidents WHERE id = ?", [incident_id]).fetchone()
        if found is None:
            raise KeyError(incident_id)
        con.execute("INSERT INTO incident_responses VALUES (?, ?, ?, ?, ?)", [incident_id, at, name, action, note])
        if isinstance(actor, Actor):
            # The note itself stays in the response log: it may quote a customer.
            detail = {"incident": incident_id, **({"assignee": note} if action == "assign" else {})}
            audit.record(store, f"incident-{action}", "incident", detail, actor.name, actor.origin)
        con.execute(
            "UPDATE incidents SET first_response_at = coalesce(first_response_at, ?) WHERE id = ?", [at, incident_id]
        )
        if action in _ACTION_STATUS:
            status = _ACTION_STATUS[action]
            stamp_col = {"acknowledged": "acknowledged_at", "resolved": "resolved_at"}.get(status)
            stamp = f", {stamp_col} = coalesce({stamp_col}, ?)" if stamp_col else ""
            con.execute(
                f"UPDATE incidents SET status = ?, updated_at = ?{stamp} WHERE id = ?",
                [status, at, *([at] if stamp_col else []), incident_id],
            )


def responses(store: Store, incident_id: str) -> list[IncidentResponse]:
    rows = store.query(
        "SELECT incident_id, acted_at, actor, action, note FROM incident_responses WHERE incident_id = ?"
        " ORDER BY acted_at",
        [incident_id],
    )
    return [IncidentResponse(*row) for row in rows]


def assignee(log: Sequence[IncidentResponse]) -> str | None:
    """Who the incident is assigned to: the user of the last assign in its response log."""
    assigned = [entry.note for entry in log if entry.action == "assign"]
    return assigned[-1] if assigned else None


def set_alerted_severity(store: Store, incident_id: str, severity: int) -> None:
    store.con.execute("UPDATE incidents SET alerted_severity = ? WHERE id = ?", [severity, incident_id])


# ------------------------------------------------------------------ outbox


def _outbox(store: Store, where: str, params: Sequence[Any]) -> list[OutboxRow]:
    rows = store.query(f"SELECT {', '.join(_OUTBOX_FIELDS)} FROM alert_outbox {where}", params)
    return [
        OutboxRow(**{**values, "payload": json.loads(values["payload"])})
        for values in (dict(zip(_OUTBOX_FIELDS, row)) for row in rows)
    ]


def enqueue(store: Store, row: OutboxRow) -> bool:
    """Queue one notification; False if the same (incident, channel, event) is already queued or sent."""
    before = store.query("SELECT count(*) FROM alert_outbox WHERE id = ?", [row.id])[0][0]
    if before:
        return False
    store.upsert(
        "alert_outbox",
        ("id",),
        "SELECT ? AS id, ? AS incident_id, ? AS channel, ? AS route, ? AS event, ? AS severity, ? AS payload,"
        " 'pending' AS status, 0 AS attempts, ? AS next_attempt_at, ? AS created_at",
        None,
        [
            row.id,
            row.incident_id,
            row.channel,
            row.route,
            row.event,
            row.severity,
            json.dumps(row.payload, ensure_ascii=False, default=str),
            row.next_attempt_at,
            row.created_at,
        ],
    )
    return True


def claim_due(store: Store, now: datetime, lease_until: datetime, owner: str, limit: int = 50) -> list[OutboxRow]:
    """Lease due rows to `owner` until `lease_until`: pending ones, and 'sending' ones whose
    lease ran out (their sender died). No attempt is counted until begin_send."""
    with store.transaction() as con:
        rows = _outbox(
            store,
            "WHERE (status = 'pending' OR status = 'sending') AND next_attempt_at <= ?"
            " ORDER BY severity DESC, created_at LIMIT ?",
            [now, limit],
        )
        for row in rows:
            con.execute(
                "UPDATE alert_outbox SET status = 'sending', next_attempt_at = ?, lease_owner = ? WHERE id = ?",
                [lease_until, owner, row.id],
            )
    return [replace(row, status="sending", next_attempt_at=lease_until, lease_owner=owner) for row in rows]


def begin_send(store: Store, outbox_id: str, owner: str, lease_until: datetime) -> int | None:
    """Right before sending: renew every lease `owner` holds to `lease_until` and count an
    attempt at this row. Returns the row's attempts, or None when `owner` no longer holds it
    (its lease ran out and another sender took it, or it is no longer sending): do not send."""
    with store.transaction() as con:
        con.execute(
            "UPDATE alert_outbox SET next_attempt_at = ? WHERE lease_owner = ? AND status = 'sending'",
            [lease_until, owner],
        )
        # No RETURNING: the lake has none. The read is in the same transaction as the update.
        con.execute(
            "UPDATE alert_outbox SET attempts = attempts + 1 WHERE id = ? AND lease_owner = ? AND status = 'sending'",
            [outbox_id, owner],
        )
        held = con.execute(
            "SELECT attempts FROM alert_outbox WHERE id = ? AND lease_owner = ? AND status = 'sending'",
            [outbox_id, owner],
        ).fetchone()
    return None if held is None else int(held[0])


def release(store: Store, owner: str, now: datetime) -> None:
    """Give back the rows `owner` leased and did not send (a sender told to stop): due again at `now`."""
    store.con.execute(
        "UPDATE alert_outbox SET status = 'pending', next_attempt_at = ?, lease_owner = NULL"
        " WHERE lease_owner = ? AND status = 'sending'",
        [now, owner],
    )


def mark_sent(store: Store, outbox_id: str, at: datetime) -> None:
    store.con.execute(
        "UPDATE alert_outbox SET status = 'sent', sent_at = ?, last_error = NULL, lease_owner = NULL WHERE id = ?",
        [at, outbox_id],
    )


def mark_failed(store: Store, outbox_id: str, error: str, retry_at: datetime | None) -> None:
    """Back to pending for a retry at `retry_at`, or dead when there is none. The error is stored
    redacted (koubei.redaction): it may name the channel's URL, which is its credential."""
    error = redact(error)
    if retry_at is None:
        store.con.execute(
            "UPDATE alert_outbox SET status = 'dead', last_error = ?, lease_owner = NULL WHERE id = ?",
            [error, outbox_id],
        )
    else:
        store.con.execute(
            "UPDATE alert_outbox SET status = 'pending', last_error = ?, next_attempt_at = ?, lease_owner = NULL"
            " WHERE id = ?",
            [error, retry_at, outbox_id],
        )


def defer(store: Store, outbox_id: str, until: datetime) -> None:
    """Quiet hours: hold the row (no attempt was counted)."""
    store.con.execute(
        "UPDATE alert_outbox SET status = 'pending', next_attempt_at = ?, lease_owner = NULL WHERE id = ?",
        [until, outbox_id],
    )


def outbox_rows(store: Store, status: str | None = None) -> list[OutboxRow]:
    if status:
        return _outbox(store, "WHERE status = ? ORDER BY created_at", [status])
    return _outbox(store, "ORDER BY created_at", [])
