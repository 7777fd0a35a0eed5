"""Detection over stored mentions: every configured rule over every scope, into incidents.

`detect_incidents` reads bucketed counts per scope (from the rollups, in one
open of the database for the whole pass), runs each configured rule, and hands
each burst to alerts.incidents, which opens, extends (merge within `merge_gap`)
or re-tiers the incident and queues its alert. Sources that went silent raise a `source_down` incident
(alerts.outages) and make detection over the scopes they feed unreliable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from alerts.config import AlertSettings, Rule, load_alert_settings
from alerts.events import Event, detect_negative, detect_volume
from alerts.facts import BASELINE
from alerts.incidents import Recorded, facts_reach, record_in
from alerts.outages import Outages, check_sources
from koubei.config import Settings
from storage import Store
from storage import alerts_series as series
from storage.db import naive_utc
from storage.incidents import Incident, stable_id

WARMUP = timedelta(days=2)  # no incident from the first days of history: there is no baseline yet
EPOCH = datetime(1970, 1, 1)


@dataclass
class DetectSummary:
    opened: int = 0
    updated: int = 0
    escalated: int = 0
    source_down: list[str] = field(default_factory=list)
    queued: int = 0
    incident_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, recorded: Recorded | None) -> None:
        if recorded is None:
            return
        self.opened += recorded.opened
        self.updated += not recorded.opened
        self.escalated += (recorded.event or "").startswith("escalated")
        self.queued += recorded.queued
        self.incident_ids.append(recorded.incident_id)

    def line(self) -> str:
        down = f", sources down: {', '.join(self.source_down)}" if self.source_down else ""
        return (
            f"{self.opened} incidents opened, {self.updated} updated, {self.escalated} escalated,"
            f" {self.queued} alerts queued{down} in {self.seconds:.1f}s"
        )


def _bucket_time(index: int, bucket_seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=int(index) * bucket_seconds)


def _bucket_index(moment: datetime, bucket_seconds: int) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() // bucket_seconds)


def dense_arrays(frame: Any, first: int, last: int) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """Dense (scopes x buckets) totals and negatives from the long bucket_counts frame."""
    keys = sorted(set(zip(frame["brand"].tolist(), frame["scope_value"].astype(str).tolist())))
    index = {k: i for i, k in enumerate(keys)}
    n = last - first + 1
    totals = np.zeros((len(keys), n))
    negatives = np.zeros((len(keys), n))
    rows = [index[(b, str(v))] for b, v in zip(frame["brand"].tolist(), frame["scope_value"].tolist())]
    cols = (frame["bucket"].to_numpy() - first).astype(int)
    totals[rows, cols] = frame["total"].to_numpy()
    negatives[rows, cols] = frame["negative"].to_numpy()
    return keys, totals, negatives


def run_rule(
    rule: Rule,
    frame: Any,
    first: int,
    last: int,
    cfg: AlertSettings,
    valid: Callable[[list[tuple[str, str]], int], np.ndarray] | None = None,
) -> tuple[list[tuple[str, str]], list[Event]]:
    keys, totals, negatives = dense_arrays(frame, first, last)
    if not keys:
        return keys, []
    mask = valid(keys, totals.shape[1]) if valid is not None else np.ones(totals.shape, dtype=bool)
    # Before a scope's first mention nothing was collected for it (a new product, a new
    # source): unknown, not zero. And its first days only teach the baseline.
    seen = totals > 0
    scope_first = np.where(seen.any(axis=1), seen.argmax(axis=1), totals.shape[1])
    mask &= np.arange(totals.shape[1])[None, :] >= scope_first[:, None]
    warmup = int(WARMUP.total_seconds() // rule.bucket_seconds)
    if rule.kind == "volume":
        events = detect_volume(totals, rule.period, rule.volume, mask, cfg.severity)
    else:
        events = detect_negative(negatives, totals, rule.negative, mask, cfg.severity)
    return keys, [e for e in events if e.start >= scope_first[e.scope] + warmup]


def merge_events(events: list[Event], gap: int) -> list[Event]:
    """One event per ongoing burst: onsets of the same scope within `gap` buckets of the
    previous event's end join it (the peak and tier are the larger ones)."""
    out: list[Event] = []
    for ev in sorted(events, key=lambda e: (e.scope, e.start)):
        prev = out[-1] if out else None
        if prev is not None and prev.scope == ev.scope and ev.start - prev.end <= gap:
            prev.end = max(prev.end, ev.end)
            prev.severity = max(prev.severity, ev.severity)
            if ev.score > prev.score:
                prev.peak, prev.observed, prev.expected, prev.score = ev.peak, ev.observed, ev.expected, ev.score
            continue
        out.append(replace(ev))
    return out


def _incident_from_event(
    rule: Rule, scope_type: str, brand: str, value: str, ev: Event, first: int, now: datetime
) -> Incident:
    b = rule.bucket_seconds
    start = _bucket_time(first + ev.start, b)
    return Incident(
        id=stable_id(rule.kind, scope_type, brand, value, b, start),
        kind=rule.kind,
        scope_type=scope_type,
        brand=brand,
        scope_value=value,
        bucket=f"{b // 60}m" if b < 3600 else f"{b // 3600}h",
        window_start=start,
        window_end=min(_bucket_time(first + ev.end + 1, b), now),
        peak_at=_bucket_time(first + ev.peak, b),
        observed=round(ev.observed, 3),
        expected=round(ev.expected, 3),
        score=round(ev.score, 3),
        factor=round(ev.observed / max(ev.expected, 1e-9), 3) if ev.expected > 0 else None,
        severity=ev.severity,
        rule=rule.name,
        created_at=now,
        updated_at=now,
    )


def _unknown_while_down(
    outages: Outages, scope_type: str, rule: Rule, first: int
) -> Callable[[list[tuple[str, str]], int], np.ndarray]:
    """A source that is down has not delivered its buckets since its last success: those
    buckets are unknown, not calm, and a later backfill into them is no spike."""

    def valid(keys: list[tuple[str, str]], n: int) -> np.ndarray:
        mask = np.ones((len(keys), n), dtype=bool)
        if scope_type == "source":
            for i, (_, value) in enumerate(keys):
                if value in outages.down:
                    cut = _bucket_index(outages.down[value], rule.bucket_seconds)
                    mask[i, max(cut - first, 0) :] = False
        return mask

    return valid


def _unreliable(incident: Incident, outages: Outages) -> Incident:
    """Marked unreliable, with the reasons, when a source feeding its scope is down."""
    affected = [s for s in outages.down if incident.scope_type != "source" or s == incident.scope_value]
    if not affected:
        return incident
    return replace(incident, reliable=False, note="; ".join(f"{s}: {outages.why[s]}" for s in affected))


def scope_incidents(
    frame: Any,
    cfg: AlertSettings,
    rule: Rule,
    scope_type: str,
    since: datetime,
    now: datetime,
    outages: Outages | None = None,
) -> list[Incident]:
    """The incidents one rule finds in one scope type's bucket counts (`frame`, read from `since`
    to `now`) as of `now`: what a detection pass stores before its facts, and what a backtest replays."""
    if frame is None or len(frame) == 0:
        return []
    # Buckets before the first stored mention are "not collected yet", not zeros.
    first = max(_bucket_index(since, rule.bucket_seconds), int(frame["bucket"].min()))
    last = _bucket_index(now, rule.bucket_seconds)
    valid = _unknown_while_down(outages, scope_type, rule, first) if outages is not None else None
    keys, events = run_rule(rule, frame, first, last, cfg, valid)
    events = merge_events(events, int(cfg.merge_gap.total_seconds() // rule.bucket_seconds))
    found = [_incident_from_event(rule, scope_type, *keys[ev.scope], ev, first, now) for ev in events]
    return [_unreliable(i, outages) for i in found] if outages is not None else found


def _rule_incidents(
    store: Store, cfg: AlertSettings, rule: Rule, scope_type: str, outages: Outages, now: datetime
) -> list[Incident]:
    since = now - cfg.lookback
    frame = series.bucket_counts(store, scope_type, rule.bucket_seconds, since, now + timedelta(seconds=1))
    return scope_incidents(frame, cfg, rule, scope_type, since, now, outages)


def detect_incidents(
    open_store: Callable[[], Store],
    settings: Settings,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> DetectSummary:
    """One detection pass as of `now` (default: now): outages first, then every rule over every
    scope; each incident stored (and its alert queued) in the order found. A set `stop` ends the
    pass before the next rule and scope: what was recorded is whole, and the next pass detects
    everything again (incident ids are stable)."""
    started = time.perf_counter()
    cfg = load_alert_settings(settings)
    now = naive_utc(now or datetime.now(UTC))
    summary = DetectSummary()
    # One open per pass: the file is held for the pass's seconds, not reopened per incident; and
    # the rows every incident's facts are read from are read once, not once per incident.
    with open_store() as store, series.PassRows(store) as recent:
        series.prune_tokens(store, now - cfg.lookback - BASELINE)
        outages, down_incidents = check_sources(store, cfg, now)
        summary.source_down = sorted(outages.down)
        for incident in down_incidents:  # an outage has no driving mentions
            summary.add(record_in(store, cfg, incident, [], now))
        found: list[list[Incident]] = []
        for rule, scope_type in ((r, scope) for r in cfg.rules for scope in r.scopes):
            if stop is not None and stop.is_set():
                break
            found.append(_rule_incidents(store, cfg, rule, scope_type, outages, now))
        recent.cover([reach for incidents in found for i in incidents if (reach := facts_reach(store, cfg, i))])
        for incidents in found:
            if stop is not None and stop.is_set():
                break
            for incident in incidents:
                summary.add(record_in(store, cfg, incident, None, now, recent))
    summary.seconds = time.perf_counter() - started
    return summary
