"""The audit trail: an append-only log of what was done to personal data, by whom, when, from where.

Entries are added and read, never changed or removed (this module offers
nothing else). An entry never holds the personal data itself: an erasure
records its counts and at most a keyed digest of what was asked for, so the
trail can show that a request was honoured without repeating it.
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
    action: str  # what: forget | retention | rotate-key
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
    store.con.execute(
        "INSERT INTO audit_log (logged_at, actor, origin, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
        [datetime.now(UTC).replace(tzinfo=None), actor, origin, action, target, json.dumps(detail, sort_keys=True)],
    )


def entries(store: Store, action: str | None = None) -> list[AuditEntry]:
    """The trail, oldest first."""
    rows = store.query(
        "SELECT id, logged_at, actor, origin, action, target, detail FROM audit_log WHERE ? IS NULL OR action = ? ORDER BY id",
        [action, action],
    )
    return [
        AuditEntry(
            id=i, logged_at=at, actor=actor, origin=origin, action=act, target=target, detail=json.loads(detail or "{}")
        )
        for i, at, actor, origin, act, target, detail in rows
    ]
