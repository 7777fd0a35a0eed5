"""Alerts through the outbox: queue one row per matching route and channel, send what is due.

A queued row carries the alert's payload (the incident's facts and up to five
driving mentions, masked, with http/https links only), so what is sent never
depends on what the database holds later. Delivery claims due rows, holds those
in a route's quiet hours (tier 5 always goes out), and marks a row sent only
after the channel accepted it; a failed send goes back with exponential backoff,
and after `max_attempts` the row is dead (kept, with its last error).

Exactly once with several senders (two `koubei alerts`, a watch beside them): a
claim is a lease held by one sender, long enough for the slowest possible send
(lease_length). Before each send the sender renews all its leases and checks it
still holds the row, so its leases never run out while it works through them
however slow the channel, and a row is taken over only from a sender that died.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alerts import channels
from alerts.config import AlertSettings, load_alert_settings
from alerts.routing import matching_routes, quiet_until
from koubei.config import Settings
from koubei.errors import KoubeiError
from koubei.privacy import mask_pii
from koubei.redaction import redact
from storage import Store
from storage import incidents as stored
from storage.db import naive_utc
from storage.incidents import Incident, IncidentMention, OutboxRow, stable_id

LEASE = timedelta(minutes=5)  # the shortest lease: a row claimed by a sender that died is due again after it
# A send is a few network exchanges (connect, request, answer; SMTP's conversation has
# more), each allowed the channel's timeout: a lease covers this many of the slowest.
EXCHANGES_PER_SEND = 8
QUOTED_MENTIONS = 5


@dataclass
class DeliverSummary:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.sent} alerts sent, {self.failed} failed (will retry), {self.deferred} held for quiet hours, {self.dead} gave up"


def _quoted(mention: IncidentMention) -> dict[str, Any]:
    url = mention.url if str(mention.url or "").startswith(("http://", "https://")) else None
    return {
        "source": mention.source,
        "native_id": mention.native_id,
        "url": url,
        "text": mask_pii(mention.text or "")[:200],
        "reach": int(mention.reach or 0),
    }


def alert_payload(incident: Incident, mentions: Sequence[IncidentMention], event: str) -> dict[str, Any]:
    """What every channel's message is built from (and what a webhook receives as is)."""
    return {
        "incident_id": incident.id,
        "event": event,
        "kind": incident.kind,
        "scope_type": incident.scope_type,
        "brand": incident.brand,
        "scope_value": incident.scope_value,
        "window_start": str(incident.window_start),
        "window_end": str(incident.window_end),
        "peak_at": str(incident.peak_at),
        "observed": incident.observed,
        "expected": incident.expected,
        "factor": incident.factor,
        "score": incident.score,
        "severity": incident.severity,
        "reliable": incident.reliable,
        "note": incident.note,
        "keywords": list(incident.keywords),
        "aspects": [asdict(a) for a in incident.aspects],
        "sources": [asdict(s) for s in incident.sources],
        "mentions": [_quoted(m) for m in mentions[:QUOTED_MENTIONS]],
    }


def queue_alert(
    store: Store,
    cfg: AlertSettings,
    incident: Incident,
    mentions: Sequence[IncidentMention],
    event: str,
    now: datetime,
) -> int:
    """One outbox row per route and channel the incident matches; returns how many were new."""
    payload = alert_payload(incident, mentions, event)
    texts = [m.text or "" for m in mentions]
    queued = 0
    for route in matching_routes(cfg, incident, texts):
        for channel in route.channels:
            row = OutboxRow(
                id=stable_id(incident.id, channel, event),
                incident_id=incident.id,
                channel=channel,
                route=route.name,
                event=event,
                severity=incident.severity,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
            queued += stored.enqueue(store, row)
    return queued


def queue_assignment(
    store: Store,
    cfg: AlertSettings,
    incident: Incident,
    mentions: Sequence[IncidentMention],
    assignee: str,
    now: datetime,
) -> int:
    """Tell the incident's channels who it was assigned to (event "assigned:<user>": once per user)."""
    return queue_alert(store, cfg, incident, mentions, f"assigned:{assignee}", now)


def _send(cfg: AlertSettings, row: OutboxRow) -> None:
    channel = cfg.channels.get(row.channel)
    if channel is None:
        raise KoubeiError(f"channel {row.channel!r} is no longer configured")
    if row.event == "report":  # a scheduled report (reports/schedule.py) rides the same outbox
        from reports.schedule import deliver_report

        deliver_report(channel, row.payload, row.id)
        return
    channels.send(channel, {**row.payload, "event": row.event}, row.id)


def lease_length(cfg: AlertSettings) -> timedelta:
    """How long a claim holds: longer than the slowest send any configured channel can make."""
    timeouts = [float(c.options.get("timeout", channels.TIMEOUT)) for c in cfg.channels.values()]
    slowest = max(timeouts, default=channels.TIMEOUT) * EXCHANGES_PER_SEND
    return max(LEASE, timedelta(seconds=slowest))


def deliver_alerts(
    open_store: Callable[[], Store],
    settings: Settings,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> DeliverSummary:
    """Send what is due. A failed send goes back to the outbox with exponential backoff;
    a row is marked sent only after the channel accepted it. A set `stop` ends the run
    between two sends and gives the unsent rows back."""
    cfg = load_alert_settings(settings)
    now = naive_utc(now or datetime.now(UTC))
    started = time.monotonic()

    def lease_until() -> datetime:  # `now` moved on by the time spent sending
        return now + timedelta(seconds=time.monotonic() - started) + lease_length(cfg)

    owner = uuid.uuid4().hex
    summary = DeliverSummary()
    with open_store() as store:
        rows = stored.claim_due(store, now, lease_until(), owner)
    routes = {r.name: r for r in cfg.routes}
    tz = ZoneInfo(cfg.timezone)
    for row in rows:
        if stop is not None and stop.is_set():
            with open_store() as store:
                stored.release(store, owner, now)
            break
        route = routes.get(row.route)
        hold = quiet_until(route, now, tz) if route is not None and row.severity < 5 else None
        if hold is not None:
            with open_store() as store:
                stored.defer(store, row.id, hold)
            summary.deferred += 1
            continue
        with open_store() as store:
            attempts = stored.begin_send(store, row.id, owner, lease_until())
        if attempts is None:
            continue  # another sender took this row over: it sends it
        try:
            _send(cfg, row)
        except KoubeiError as exc:
            retry = None
            if attempts < cfg.max_attempts:
                retry = now + timedelta(seconds=cfg.retry_base_seconds * 2 ** (attempts - 1))
            error = redact(exc)  # a channel's error can name its URL, which is its credential
            with open_store() as store:
                stored.mark_failed(store, row.id, error[:500], retry)
            summary.errors.append(error)
            if retry is None:
                summary.dead += 1
            else:
                summary.failed += 1
            continue
        with open_store() as store:
            stored.mark_sent(store, row.id, now)
        summary.sent += 1
    return summary
