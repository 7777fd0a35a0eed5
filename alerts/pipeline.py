"""Detection over stored mentions, incidents with their facts, and delivery via the outbox.

`detect_incidents` reads bucketed counts per scope (short-lived store per
step), runs each configured rule, and opens, extends (merge within
`merge_gap`) or re-tiers incidents. Each incident stores facts only: scope,
window, observed vs expected, factor and z, tier, the driving mentions (most
reach first), the keywords and aspects that rose, and the sources. Sources
that went silent raise a `source_down` incident and make detection over the
scopes they feed unreliable. New and escalated incidents are routed into the
outbox in the same pass; `deliver_alerts` sends what is due.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from alerts.config import AlertSettings, Rule, load_alert_settings
from alerts.events import Event, detect_negative, detect_volume, severity
from alerts.routing import matching_routes, quiet_until
from koubei.config import Settings
from koubei.errors import KoubeiError
from storage import Store
from storage import alerts_series as series
from storage import incidents as inc

StoreFactory = Callable[[], Store]
WARMUP = timedelta(days=2)  # no incident from the first days of history: there is no baseline yet
ALERT_HORIZON = timedelta(hours=24)  # incidents that ended longer ago are stored, not sent
WATCH_PREFIX = "koubei-"  # source_health rows that are not sources (the watch heartbeat)


@dataclass
class DetectSummary:
    opened: int = 0
    updated: int = 0
    escalated: int = 0
    source_down: list[str] = field(default_factory=list)
    unreliable_scopes: list[str] = field(default_factory=list)
    queued: int = 0
    incident_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        down = f", sources down: {', '.join(self.source_down)}" if self.source_down else ""
        return (
            f"{self.opened} incidents opened, {self.updated} updated, {self.escalated} escalated,"
            f" {self.queued} alerts queued{down} in {self.seconds:.1f}s"
        )


@dataclass
class DeliverSummary:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"{self.sent} alerts sent, {self.failed} failed (will retry), {self.deferred} held for quiet hours, {self.dead} gave up"


def _utc_naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _stable_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _bucket_time(index: int, bucket_seconds: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=int(index) * bucket_seconds)


# ------------------------------------------------------------------ collection awareness


@dataclass
class SourceState:
    down: dict[str, datetime] = field(default_factory=dict)  # source -> collected up to (last success)
    why: dict[str, str] = field(default_factory=dict)


def check_sources(store: Store, cfg: AlertSettings, now: datetime) -> tuple[SourceState, list[dict[str, Any]]]:
    """Sources that stopped delivering: failing runs, or silence where there used to be many items."""
    state = SourceState()
    found: list[dict[str, Any]] = []
    silence = timedelta(hours=cfg.silence_hours)
    hour = 3600
    frame = series.source_buckets(store, hour, now - timedelta(days=8), now)
    for row in inc.health_rows(store):
        name = row["source"]
        if name.startswith(WATCH_PREFIX):
            continue
        last_ok = row.get("last_success_at")
        sub = frame[frame["source"] == name] if len(frame) else frame
        counts = dict(zip(sub["bucket"].tolist(), sub["total"].tolist())) if len(sub) else {}
        now_bucket = int(now.timestamp() // hour) if now.tzinfo else int(now.replace(tzinfo=UTC).timestamp() // hour)
        recent = sum(counts.get(b, 0) for b in range(now_bucket - int(cfg.silence_hours), now_bucket + 1))
        usual = np.mean(
            [
                sum(counts.get(b - d * 24, 0) for b in range(now_bucket - int(cfg.silence_hours), now_bucket + 1))
                for d in range(1, 8)
            ]
        )
        failing = row.get("status") == "error" and (last_ok is None or now - last_ok > silence)
        silent = recent == 0 and usual >= cfg.silence_min_expected
        if not (failing or silent):
            continue
        since = last_ok or row.get("last_error_at") or now
        why = (
            f"collection failing since {since:%Y-%m-%d %H:%M} UTC: {str(row.get('last_error') or '')[:120]}"
            if failing
            else f"0 items in the last {cfg.silence_hours:.0f}h where about {usual:.0f} are usual"
        )
        state.down[name] = since
        state.why[name] = why
        found.append(
            {
                "id": _stable_id("source_down", name, since),
                "kind": "source_down",
                "scope_type": "source",
                "brand": "",
                "scope_value": name,
                "bucket": "1h",
                "window_start": since,
                "window_end": now,
                "peak_at": now,
                "observed": float(recent),
                "expected": float(usual),
                "score": 0.0,
                "factor": 0.0,
                "severity": 3,
                "reliable": False,
                "keywords": [],
                "aspects": [],
                "sources": [{"source": name, "count": int(recent)}],
                "rule": "source-health",
                "note": why,
            }
        )
    return state, found


# ------------------------------------------------------------------ detection


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


def detect_incidents(open_store: StoreFactory, settings: Settings, now: datetime | None = None) -> DetectSummary:
    started = time.perf_counter()
    cfg = load_alert_settings(settings)
    now = _utc_naive(now or datetime.now(UTC))
    summary = DetectSummary()
    with open_store() as store:
        sources, down_incidents = check_sources(store, cfg, now)
    summary.source_down = sorted(sources.down)
    for found in down_incidents:
        _persist(open_store, cfg, found, [], now, summary)
    for rule in cfg.rules:
        since = now - cfg.lookback
        lookback_first = int(since.replace(tzinfo=UTC).timestamp() // rule.bucket_seconds)
        last = int(now.replace(tzinfo=UTC).timestamp() // rule.bucket_seconds)
        for scope_type in rule.scopes:
            with open_store() as store:
                frame = series.bucket_counts(store, scope_type, rule.bucket_seconds, since, now + timedelta(seconds=1))
            if frame is None or len(frame) == 0:
                continue
            data_first = int(frame["bucket"].min())
            # Buckets before the first stored mention are "not collected yet", not zeros.
            first = max(lookback_first, data_first)

            def valid(
                keys: list[tuple[str, str]], n: int, scope_type: str = scope_type, rule: Rule = rule, first: int = first
            ) -> np.ndarray:
                mask = np.ones((len(keys), n), dtype=bool)
                # A source that is down has not delivered its buckets since its last success:
                # those buckets are unknown, not calm, and a later backfill into them is no spike.
                if scope_type == "source":
                    for i, (_, value) in enumerate(keys):
                        if value in sources.down:
                            cut = int(sources.down[value].replace(tzinfo=UTC).timestamp() // rule.bucket_seconds)
                            mask[i, max(cut - first, 0) :] = False
                return mask

            keys, events = run_rule(rule, frame, first, last, cfg, valid)
            events = merge_events(events, int(cfg.merge_gap.total_seconds() // rule.bucket_seconds))
            for ev in events:
                brand, value = keys[ev.scope]
                incident = _incident_from_event(rule, scope_type, brand, value, ev, first, now)
                if sources.down:
                    affected = [s for s in sources.down if scope_type != "source" or s == value]
                    if affected:
                        incident["reliable"] = False
                        incident["note"] = "; ".join(f"{s}: {sources.why[s]}" for s in affected)
                        summary.unreliable_scopes.append(f"{scope_type}:{brand}/{value}")
                _persist(open_store, cfg, incident, None, now, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def _incident_from_event(
    rule: Rule, scope_type: str, brand: str, value: str, ev: Event, first: int, now: datetime
) -> dict[str, Any]:
    b = rule.bucket_seconds
    start = _bucket_time(first + ev.start, b)
    end = min(_bucket_time(first + ev.end + 1, b), now)
    return {
        "id": _stable_id(rule.kind, scope_type, brand, value, rule.bucket_seconds, _bucket_time(first + ev.start, b)),
        "kind": rule.kind,
        "scope_type": scope_type,
        "brand": brand,
        "scope_value": value,
        "bucket": f"{b // 60}m" if b < 3600 else f"{b // 3600}h",
        "window_start": start,
        "window_end": end,
        "peak_at": _bucket_time(first + ev.peak, b),
        "observed": round(ev.observed, 3),
        "expected": round(ev.expected, 3),
        "score": round(ev.score, 3),
        "factor": round(ev.observed / max(ev.expected, 1e-9), 3) if ev.expected > 0 else None,
        "severity": ev.severity,
        "reliable": True,
        "rule": rule.name,
        "note": None,
    }


def _facts(store: Store, cfg: AlertSettings, incident: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The mentions, keywords, aspects and sources behind an incident, from stored data only."""
    args = (incident["scope_type"], incident["brand"], incident["scope_value"])
    start, end = incident["window_start"], incident["window_end"]
    negative_only = incident["kind"] == "negative"
    mentions = series.window_mentions(store, *args, start, end, negative_only, cfg.top_mentions)
    # Keyword extraction tokenises every text: a few hundred of each side name a burst well enough.
    texts = series.window_texts(store, *args, start, end, negative_only, limit=300)
    before = start - timedelta(days=7)
    background = series.window_texts(store, *args, before, start, negative_only, limit=300)
    keywords: list[str] = []
    if texts:
        from sentiment.keywords import top_keywords

        keywords = [word for word, _ in top_keywords(texts, k=10, background=background or None)]
    now_aspects = series.window_breakdown(store, *args, start, end, negative_only, "aspect")
    base_aspects = series.window_breakdown(store, *args, before, start, negative_only, "aspect")
    ratio = max((end - start) / (start - before), 1e-9)
    aspects = sorted(
        (
            {"aspect": a, "observed": c, "expected": round(base_aspects.get(a, 0) * ratio, 2)}
            for a, c in now_aspects.items()
            if c > base_aspects.get(a, 0) * ratio
        ),
        key=lambda x: x["observed"] - x["expected"],
        reverse=True,
    )
    sources = [
        {"source": s, "count": c}
        for s, c in series.window_breakdown(store, *args, start, end, negative_only, "source").items()
    ]
    facts: dict[str, Any] = {"keywords": keywords, "aspects": aspects[:8], "sources": sources}
    if negative_only and incident["severity"] < 5:
        urgent = series.window_urgent_count(store, *args, start, end)
        if urgent >= cfg.severity.red_alert_mentions:
            facts["severity"] = 5
            why = f"tier 5 (红色警戒): {urgent} mentions in the window triaged tier 5"
            facts["note"] = f"{incident['note']}; {why}" if incident.get("note") else why
    return mentions, facts


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
        out.append(Event(**ev.as_dict()))
    return out


def _persist(
    open_store: StoreFactory,
    cfg: AlertSettings,
    incident: dict[str, Any],
    mentions: list[dict[str, Any]] | None,
    now: datetime,
    summary: DetectSummary,
) -> None:
    """Store one incident (merged into an unresolved one of the same burst); `mentions`
    None means: gather the facts for the final window here."""
    with open_store() as store:
        existing = inc.get_incident(store, incident["id"])
        if existing is None and incident["kind"] != "source_down":
            # One incident per ongoing burst: a new onset close to an unresolved one extends it.
            merge = inc.find_mergeable(
                store,
                incident["kind"],
                incident["scope_type"],
                incident["brand"],
                incident["scope_value"],
                incident["window_start"] - cfg.merge_gap,
            )
            if merge is not None and merge["window_start"] <= incident["window_start"]:
                existing = merge
                if merge["score"] >= incident["score"]:
                    for key in ("peak_at", "observed", "expected", "score", "factor"):
                        incident[key] = merge[key]
                incident["id"] = merge["id"]
                incident["window_start"] = merge["window_start"]
                incident["window_end"] = max(merge["window_end"], incident["window_end"])
                incident["severity"] = max(merge["severity"], incident["severity"])
        if (
            existing is not None
            and existing.get("status") == "resolved"
            and incident["window_end"] <= existing["window_end"]
        ):
            return  # nothing new since someone resolved it
        if (
            existing is not None
            and incident["window_end"] <= existing["window_end"]
            and incident["severity"] <= existing["severity"]
            and incident["score"] <= existing["score"]
            and incident.get("reliable", True) == existing.get("reliable", True)
        ):
            return  # the same burst as last pass: its facts are stored, nothing to recompute or send
        if mentions is None:
            mentions, facts = _facts(store, cfg, incident)
            incident.update(facts)
        incident["created_at"] = existing["created_at"] if existing else now
        incident["updated_at"] = now
        if existing is None:
            incident["status"] = "open"
            summary.opened += 1
        else:
            summary.updated += 1
        inc.save_incident(store, incident, mentions)
        summary.incident_ids.append(incident["id"])
        alerted = existing.get("alerted_severity") if existing else None
        if incident["window_end"] < now - ALERT_HORIZON:
            return  # history: stored for the record and the dashboard, not sent at 3 a.m.
        if alerted is not None and incident["severity"] <= alerted:
            return
        if incident["kind"] != "source_down":
            # No alert storm: a product / source / aspect burst inside an alerted brand
            # incident is part of it (stored, shown, not sent again) unless it is worse;
            # so is the volume spike of a burst already alerted as a negative spike.
            cover = None
            if incident["scope_type"] != "brand":
                cover = inc.covering_brand_incident(
                    store, incident["kind"], incident["brand"], incident["window_start"], incident["window_end"]
                )
            if cover is None and incident["kind"] == "volume":
                cover = inc.covering_brand_incident(
                    store, "negative", incident["brand"], incident["window_start"], incident["window_end"]
                )
            if cover is not None and cover["severity"] >= incident["severity"]:
                return
        event = "opened" if alerted is None else f"escalated:{incident['severity']}"
        if alerted is not None:
            summary.escalated += 1
        summary.queued += _queue(store, cfg, incident, mentions, event, now)
        inc.set_alerted_severity(store, incident["id"], incident["severity"])


def alert_payload(incident: dict[str, Any], mentions: list[dict[str, Any]], event: str) -> dict[str, Any]:
    from koubei.privacy import mask_pii

    return {
        "incident_id": incident["id"],
        "event": event,
        "kind": incident["kind"],
        "scope_type": incident["scope_type"],
        "brand": incident["brand"],
        "scope_value": incident["scope_value"],
        "window_start": str(incident["window_start"]),
        "window_end": str(incident["window_end"]),
        "peak_at": str(incident["peak_at"]),
        "observed": incident["observed"],
        "expected": incident["expected"],
        "factor": incident.get("factor"),
        "score": incident["score"],
        "severity": incident["severity"],
        "reliable": incident.get("reliable", True),
        "note": incident.get("note"),
        "keywords": incident.get("keywords") or [],
        "aspects": incident.get("aspects") or [],
        "sources": incident.get("sources") or [],
        "mentions": [
            {
                "source": m["source"],
                "native_id": m["native_id"],
                "url": m.get("url") if str(m.get("url") or "").startswith(("http://", "https://")) else None,
                "text": mask_pii(str(m.get("text") or ""))[:200],
                "reach": int(m.get("reach") or 0),
            }
            for m in mentions[:5]
        ],
    }


def _queue(
    store: Store,
    cfg: AlertSettings,
    incident: dict[str, Any],
    mentions: list[dict[str, Any]],
    event: str,
    now: datetime,
) -> int:
    payload = alert_payload(incident, mentions, event)
    texts = [str(m.get("text") or "") for m in mentions]
    queued = 0
    for route in matching_routes(cfg, incident, texts):
        for channel in route.channels:
            row = {
                "id": _stable_id(incident["id"], channel, event),
                "incident_id": incident["id"],
                "channel": channel,
                "route": route.name,
                "event": event,
                "severity": incident["severity"],
                "payload": payload,
                "next_attempt_at": now,
                "created_at": now,
            }
            queued += inc.enqueue(store, row)
    return queued


# ------------------------------------------------------------------ delivery


def deliver_alerts(
    open_store: StoreFactory, settings: Settings, now: datetime | None = None, sender: Callable[..., None] | None = None
) -> DeliverSummary:
    """Send what is due. A failed send goes back to the outbox with exponential backoff;
    a row is marked sent only after the channel accepted it."""
    from alerts import channels as ch

    cfg = load_alert_settings(settings)
    send = sender or ch.send
    now = _utc_naive(now or datetime.now(UTC))
    summary = DeliverSummary()
    with open_store() as store:
        rows = inc.claim_due(store, now, now + timedelta(minutes=5))
    routes = {r.name: r for r in cfg.routes}
    tz = ZoneInfo(cfg.timezone)
    for row in rows:
        route = routes.get(row["route"])
        if route is not None and row["severity"] < 5:
            hold = quiet_until(route, now, tz)
            if hold is not None:
                with open_store() as store:
                    inc.defer(store, row["id"], hold)
                summary.deferred += 1
                continue
        channel = cfg.channels.get(row["channel"])
        try:
            if channel is None:
                raise KoubeiError(f"channel {row['channel']!r} is no longer configured")
            send(channel, {**row["payload"], "event": row["event"]}, row["id"])
        except KoubeiError as exc:
            retry = None
            if row["attempts"] < cfg.max_attempts:
                retry = now + timedelta(seconds=cfg.retry_base_seconds * 2 ** (row["attempts"] - 1))
            with open_store() as store:
                inc.mark_failed(store, row["id"], str(exc)[:500], retry)
            summary.errors.append(str(exc))
            if retry is None:
                summary.dead += 1
            else:
                summary.failed += 1
            continue
        with open_store() as store:
            inc.mark_sent(store, row["id"], now)
        summary.sent += 1
    return summary


def severity_of(kind: str, observed: float, expected: float, settings: Settings) -> int:
    return severity(kind, observed, expected, load_alert_settings(settings).severity)
