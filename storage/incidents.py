"""Incidents, their driving mentions, the response log and the alert outbox.

Incident ids are stable (a hash of kind, scope and window start), so a rerun
of detection updates the same rows instead of adding new ones. Outbox rows
are keyed by (incident, channel, event): queuing the same alert twice is a
no-op, and a row moves pending -> sending -> sent (or back to pending with a
later next_attempt_at, or to dead after the last retry).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.db import Store

INCIDENT_FIELDS = [
    "id",
    "kind",
    "scope_type",
    "brand",
    "scope_value",
    "bucket",
    "window_start",
    "window_end",
    "peak_at",
    "observed",
    "expected",
    "score",
    "severity",
    "status",
    "reliable",
    "keywords",
    "aspects",
    "sources",
    "created_at",
    "updated_at",
    "factor",
    "alerted_severity",
    "acknowledged_at",
    "resolved_at",
    "first_response_at",
    "rule",
    "note",
]
_JSON_FIELDS = ("keywords", "aspects", "sources")
INCIDENT_STATUSES = ("open", "acknowledged", "resolved")  # the lifecycle, in order


def _rows(store: Store, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = store.con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        item = dict(zip(names, row))
        for key in _JSON_FIELDS:
            if isinstance(item.get(key), str):
                item[key] = json.loads(item[key])
        if isinstance(item.get("payload"), str):
            item["payload"] = json.loads(item["payload"])
        out.append(item)
    return out


def find_mergeable(
    store: Store, kind: str, scope_type: str, brand: str, scope_value: str, not_before: datetime
) -> dict[str, Any] | None:
    """The latest unresolved incident of this kind and scope that ended at or after `not_before`."""
    rows = _rows(
        store,
        f"SELECT {', '.join(INCIDENT_FIELDS)} FROM incidents WHERE kind = ? AND scope_type = ?"
        " AND coalesce(brand, '') = ? AND scope_value = ? AND status <> 'resolved' AND window_end >= ?"
        " ORDER BY window_start DESC LIMIT 1",
        [kind, scope_type, brand, scope_value, not_before],
    )
    return rows[0] if rows else None


def get_incident(store: Store, incident_id: str) -> dict[str, Any] | None:
    rows = _rows(store, f"SELECT {', '.join(INCIDENT_FIELDS)} FROM incidents WHERE id = ?", [incident_id])
    return rows[0] if rows else None


def save_incident(store: Store, incident: dict[str, Any], mentions: list[dict[str, Any]]) -> None:
    """Insert or update one incident and replace its driving mentions, in one transaction."""
    values = dict(incident)
    for key in _JSON_FIELDS:
        values[key] = json.dumps(values.get(key) or [], ensure_ascii=False, default=str)
    columns = [c for c in INCIDENT_FIELDS if c in values]
    updatable = [
        c
        for c in columns
        if c
        not in ("id", "created_at", "status", "acknowledged_at", "resolved_at", "first_response_at", "alerted_severity")
    ]
    with store.transaction() as con:
        con.execute(
            f"INSERT INTO incidents ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
            f" ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in updatable)}",
            [values[c] for c in columns],
        )
        con.execute("DELETE FROM incident_mentions WHERE incident_id = ?", [incident["id"]])
        if mentions:
            con.executemany(
                "INSERT INTO incident_mentions VALUES (?, ?, ?, ?)",
                [[incident["id"], m["source"], m["native_id"], rank] for rank, m in enumerate(mentions, 1)],
            )


def list_incidents(
    store: Store, status: str | None = None, brand: str | None = None, limit: int = 200, since: datetime | None = None
) -> list[dict[str, Any]]:
    where, params = ["1 = 1"], []  # type: tuple[list[str], list[Any]]
    if status:
        where.append("status = ?")
        params.append(status)
    if brand:
        where.append("brand = ?")
        params.append(brand)
    if since:
        where.append("window_end >= ?")
        params.append(since)
    return _rows(
        store,
        f"SELECT {', '.join(INCIDENT_FIELDS)} FROM incidents WHERE {' AND '.join(where)}"
        " ORDER BY (status = 'resolved'), severity DESC, window_start DESC LIMIT ?",
        [*params, limit],
    )


def incident_mentions(store: Store, incident_id: str) -> list[dict[str, Any]]:
    return _rows(
        store,
        "SELECT im.rank, m.source, m.native_id, m.url, m.text, m.published_at,"
        " coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS reach, s.label"
        " FROM incident_mentions im JOIN mentions m ON m.source = im.source AND m.native_id = im.native_id"
        " LEFT JOIN sentiment s ON s.source = m.source AND s.native_id = m.native_id"
        " WHERE im.incident_id = ? ORDER BY im.rank",
        [incident_id],
    )


_ACTION_STATUS = {"acknowledge": "acknowledged", "resolve": "resolved", "reopen": "open"}


def log_response(store: Store, incident_id: str, action: str, actor: str, note: str | None, at: datetime) -> None:
    """Record an action; acknowledge / resolve / reopen also move the status.
    The first action of any kind sets the time to first response."""
    if action not in ("acknowledge", "resolve", "respond", "reopen"):
        raise ValueError(f"unknown action {action!r}")
    with store.transaction() as con:
        found = con.execute("SELECT status FROM incidents WHERE id = ?", [incident_id]).fetchone()
        if found is None:
            raise KeyError(incident_id)
        con.execute("INSERT INTO incident_responses VALUES (?, ?, ?, ?, ?)", [incident_id, at, actor, action, note])
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


def responses(store: Store, incident_id: str) -> list[dict[str, Any]]:
    return _rows(store, "SELECT * FROM incident_responses WHERE incident_id = ? ORDER BY acted_at", [incident_id])


def set_alerted_severity(store: Store, incident_id: str, severity: int) -> None:
    store.con.execute("UPDATE incidents SET alerted_severity = ? WHERE id = ?", [severity, incident_id])


# ------------------------------------------------------------------ outbox


def enqueue(store: Store, row: dict[str, Any]) -> bool:
    """Queue one notification; False if the same (incident, channel, event) is already queued or sent."""
    before = store.query("SELECT count(*) FROM alert_outbox WHERE id = ?", [row["id"]])[0][0]
    if before:
        return False
    store.con.execute(
        "INSERT INTO alert_outbox (id, incident_id, channel, route, event, severity, payload, status, attempts,"
        " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT DO NOTHING",
        [
            row["id"],
            row["incident_id"],
            row["channel"],
            row["route"],
            row["event"],
            row["severity"],
            json.dumps(row["payload"], ensure_ascii=False, default=str),
            row["next_attempt_at"],
            row["created_at"],
        ],
    )
    return True


def claim_due(store: Store, now: datetime, lease_until: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Take due rows (pending, or 'sending' whose lease ran out after a crash) and mark them sending."""
    with store.transaction() as con:
        rows = _rows(
            store,
            "SELECT * FROM alert_outbox WHERE (status = 'pending' OR status = 'sending') AND next_attempt_at <= ?"
            " ORDER BY severity DESC, created_at LIMIT ?",
            [now, limit],
        )
        for row in rows:
            con.execute(
                "UPDATE alert_outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                [lease_until, row["id"]],
            )
            row["attempts"] += 1
    return rows


def mark_sent(store: Store, outbox_id: str, at: datetime) -> None:
    store.con.execute(
        "UPDATE alert_outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?", [at, outbox_id]
    )


def mark_failed(store: Store, outbox_id: str, error: str, retry_at: datetime | None) -> None:
    """Back to pending for a retry at `retry_at`, or dead when there is none."""
    if retry_at is None:
        store.con.execute("UPDATE alert_outbox SET status = 'dead', last_error = ? WHERE id = ?", [error, outbox_id])
    else:
        store.con.execute(
            "UPDATE alert_outbox SET status = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?",
            [error, retry_at, outbox_id],
        )


def defer(store: Store, outbox_id: str, until: datetime) -> None:
    """Quiet hours: hold the row without counting an attempt."""
    store.con.execute(
        "UPDATE alert_outbox SET status = 'pending', attempts = attempts - 1, next_attempt_at = ? WHERE id = ?",
        [until, outbox_id],
    )


def outbox_rows(store: Store, status: str | None = None) -> list[dict[str, Any]]:
    if status:
        return _rows(store, "SELECT * FROM alert_outbox WHERE status = ? ORDER BY created_at", [status])
    return _rows(store, "SELECT * FROM alert_outbox ORDER BY created_at")


# ------------------------------------------------------------------ watch heartbeat


def heartbeat(store: Store, name: str, at: datetime, detail: str) -> None:
    """The watch loop's heartbeat, kept in source_health under its own name."""
    store.con.execute(
        "INSERT INTO source_health (source, last_run_at, last_success_at, last_items, status, last_error)"
        " VALUES (?, ?, ?, 0, 'ok', NULL) ON CONFLICT (source) DO UPDATE SET last_run_at = excluded.last_run_at,"
        " last_success_at = excluded.last_success_at, status = 'ok'",
        [name, at, at],
    )
    del detail  # kept in the signature for callers' logs; source_health has no free-text column for it


def health_rows(store: Store) -> list[dict[str, Any]]:
    return _rows(store, "SELECT * FROM source_health ORDER BY source")


def covering_brand_incident(
    store: Store, kind: str, brand: str, start: datetime, end: datetime
) -> dict[str, Any] | None:
    """An unresolved, already alerted brand-level incident of this kind overlapping [start, end]."""
    rows = _rows(
        store,
        f"SELECT {', '.join(INCIDENT_FIELDS)} FROM incidents WHERE kind = ? AND scope_type = 'brand'"
        " AND coalesce(brand, '') = ? AND status <> 'resolved' AND alerted_severity IS NOT NULL"
        " AND window_start <= ? AND window_end >= ? ORDER BY severity DESC LIMIT 1",
        [kind, brand, end, start],
    )
    return rows[0] if rows else None
