"""Collection awareness: the sources that stopped delivering, as `source_down` incidents.

A source is down when its runs fail (source health `error` for longer than
`silence_hours`) or when it delivered nothing for `silence_hours` where at least
`silence_min_expected` items are usual at that time of day. Detection treats the
buckets a down source has not delivered as unknown, not calm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from alerts.config import AlertSettings
from storage import Store
from storage import alerts_series as series
from storage.health import SourceHealth, source_health
from storage.incidents import Incident, SourceCount, stable_id

HOUR = 3600


@dataclass
class Outages:
    down: dict[str, datetime] = field(default_factory=dict)  # source -> collected up to (last success)
    why: dict[str, str] = field(default_factory=dict)


def _hourly(counts: dict[int, int], last: int, hours: int) -> int:
    return sum(counts.get(b, 0) for b in range(last - hours, last + 1))


def _why_down(
    row: SourceHealth, cfg: AlertSettings, recent: int, usual: float, now: datetime
) -> tuple[datetime, str] | None:
    """(down since, why) when the source is down, else None."""
    last_ok = row.last_success_at
    failing = row.status == "error" and (last_ok is None or now - last_ok > timedelta(hours=cfg.silence_hours))
    silent = recent == 0 and usual >= cfg.silence_min_expected
    if not (failing or silent):
        return None
    since = last_ok or row.last_error_at or now
    if failing:
        return since, f"collection failing since {since:%Y-%m-%d %H:%M} UTC: {str(row.last_error or '')[:120]}"
    return since, f"0 items in the last {cfg.silence_hours:.0f}h where about {usual:.0f} are usual"


def check_sources(store: Store, cfg: AlertSettings, now: datetime) -> tuple[Outages, list[Incident]]:
    """Sources that stopped delivering (`now` naive UTC), and a `source_down` incident for each."""
    outages = Outages()
    found: list[Incident] = []
    frame = series.source_buckets(store, HOUR, now - timedelta(days=8), now)
    now_bucket = int(now.replace(tzinfo=UTC).timestamp() // HOUR)
    hours = int(cfg.silence_hours)
    for row in source_health(store):
        if row.is_heartbeat:
            continue
        sub = frame[frame["source"] == row.source] if len(frame) else frame
        counts = dict(zip(sub["bucket"].tolist(), sub["total"].tolist())) if len(sub) else {}
        recent = _hourly(counts, now_bucket, hours)
        usual = float(np.mean([_hourly(counts, now_bucket - d * 24, hours) for d in range(1, 8)]))
        down = _why_down(row, cfg, recent, usual, now)
        if down is None:
            continue
        since, why = down
        outages.down[row.source] = since
        outages.why[row.source] = why
        found.append(
            Incident(
                id=stable_id("source_down", row.source, since),
                kind="source_down",
                scope_type="source",
                brand="",
                scope_value=row.source,
                bucket="1h",
                window_start=since,
                window_end=now,
                peak_at=now,
                observed=float(recent),
                expected=usual,
                score=0.0,
                factor=0.0,
                severity=3,
                reliable=False,
                sources=(SourceCount(row.source, recent),),
                rule="source-health",
                note=why,
                created_at=now,
                updated_at=now,
            )
        )
    return outages, found
