"""The audit trail: an append-only log of every change of state, by whom, when, what, from where.

It records incident actions (incident-acknowledge, -assign, -respond, -resolve,
-reopen), label and tier corrections (correct), accounts (user-add, -disable,
-enable, -reset, -role), settings changes, exports of mentions (export) and what
was done to personal data (forget, retention, rotate-key).

Entries are added and read, never changed or removed (this module offers
nothing else, and no page or command edits it). An entry never holds the
personal data itself: an erasure records its counts and at most a keyed digest
of what was asked for, so the trail can show that a request was honoured
without repeating it; an incident action names the incident, not its note.
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage.db import Store


@dataclass(frozen=True)
class AuditEntry:
    id: int
    logged_at: datetime  # naive UTC
    actor: str  # who
    origin: str  # from where
    action: str  # what: see the module's docstring
    target: str | None  # what kind of thing it acted on
    detail: dict[str, Any]


def default_actor() -> str:
    """The OS user running the command, when nobody named themselves."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def origin_of(command: str) -> str:
    return f"{command}@{socket.gethostname()}"


def record(store: Store, action: str, target: str | None, detail: dict[str, Any], actor: str, origin: str) -> None:
    """Append one entry (inside the caller's transaction, so it commits with what it describes)."""
    store.append_log(
        "audit_log",
        {
            "logged_at": datetime.now(UTC).replace(tzinfo=None),
            "actor": actor,
            "origin": origin,
            "action": action,
            "target": target,
            "detail": json.dumps(detail, sort_keys=True),
        },
    )


def entries(
    store: Store, action: str | None = None, actor: str | None = None, since: datetime | None = None
) -> list[AuditEntry]:
    """The trail, oldest first; `action` matches an action or, ending in "-", a family ("user-")."""
    rows = store.query(
        "SELECT id, logged_at, actor, origin, action, target, detail FROM audit_log"
        " WHERE (? IS NULL OR action = ? OR (suffix(?, '-') AND starts_with(action, ?)))"
        " AND (? IS NULL OR actor = ?) AND (? IS NULL OR logged_at >= ?) ORDER BY id",
        [action, action, action, action, actor, actor, since, since],
    )
    return [
        AuditEntry(
            id=i, logged_at=at, actor=actor, origin=origin, action=act, target=target, detail=json.loads(detail or "{}")
        )
        for i, at, actor, origin, act, target, detail in rows
    ]
