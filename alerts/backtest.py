"""Replay stored history through one rule: when would it have fired?

A backtest runs what a live detection pass runs (alerts.detect.scope_incidents: the same
scores, warm-up, merging of onsets within `merge_gap`, and alerts.facts.red_alert's tiers)
as of `until`, so what it lists is the incidents the rule would have raised, one per burst,
at the tier live would give it. Nothing is written: this is for tuning thresholds against
alert fatigue before a rule goes live (`koubei backtest`, and the dashboard's rules page).
Outages are not replayed: which sources were down in the past is not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from alerts.config import AlertSettings, Rule, load_alert_settings
from alerts.detect import dense_arrays, scope_incidents
from alerts.detectors import negative_scores, volume_scores
from alerts.facts import red_alert
from koubei.config import Settings
from storage import Store
from storage import alerts_series as series
from storage.db import naive_utc
from storage.incidents import Incident

CONTEXT = timedelta(days=14)  # history before `since` that the baselines learn from


@dataclass
class Firing:
    scope_type: str
    brand: str
    scope_value: str
    start: datetime
    end: datetime
    peak: datetime
    observed: float
    expected: float
    score: float
    severity: int


@dataclass
class Backtest:
    rule: Rule
    since: datetime
    until: datetime
    firings: list[Firing] = field(default_factory=list)
    # Per scope: bucket times, observed and expected, for the chart.
    traces: dict[str, dict[str, Any]] = field(default_factory=dict)

    def per_week(self) -> float:
        weeks = max((self.until - self.since).total_seconds() / (7 * 86400), 1 / 7)
        return len(self.firings) / weeks


def apply_overrides(rule: Rule, overrides: dict[str, Any]) -> Rule:
    """A variant of a rule with some thresholds changed (for tuning in the dashboard)."""
    if not overrides:
        return rule
    if rule.kind == "volume":
        return replace(rule, volume=replace(rule.volume, **overrides))
    return replace(rule, negative=replace(rule.negative, **overrides))


def backtest(
    open_store: Callable[[], Store],
    settings: Settings,
    rule_name: str,
    since: datetime,
    until: datetime | None = None,
    scope_type: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Backtest:
    cfg = load_alert_settings(settings)
    rule = apply_overrides(cfg.rule(rule_name), overrides or {})
    until = naive_utc(until) if until else datetime.now(UTC).replace(tzinfo=None)
    since = naive_utc(since)
    result = Backtest(rule, since, until)
    # Live passes learn from `lookback` of history; a replay further back learns from CONTEXT before it.
    start = min(until - cfg.lookback, since - CONTEXT)
    for stype in [scope_type] if scope_type else list(rule.scopes):
        with open_store() as store:
            frame = series.bucket_counts(store, stype, rule.bucket_seconds, start, until + timedelta(seconds=1))
        found = [i for i in scope_incidents(frame, cfg, rule, stype, start, until) if i.window_start >= since]
        with open_store() as store:
            result.firings += [_firing(red_alert(store, cfg, incident)) for incident in found]
        if len(frame):
            result.traces.update(_traces(rule, stype, frame, start, since, until))
    result.firings.sort(key=lambda f: (f.start, f.scope_type, f.scope_value))
    return result


def _firing(incident: Incident) -> Firing:
    return Firing(
        incident.scope_type,
        incident.brand or "",
        incident.scope_value,
        incident.window_start,
        incident.window_end,
        incident.peak_at,
        incident.observed,
        incident.expected,
        incident.score,
        incident.severity,
    )


def _traces(
    rule: Rule, scope_type: str, frame: Any, start: datetime, since: datetime, until: datetime
) -> dict[str, dict[str, Any]]:
    """Per scope: bucket times from `since`, observed and expected, z and alarms, for the chart."""
    b = rule.bucket_seconds
    # Buckets before the first stored mention are "not collected yet", not zeros.
    first = max(int(start.replace(tzinfo=UTC).timestamp() // b), int(frame["bucket"].min()))
    last = int(until.replace(tzinfo=UTC).timestamp() // b)
    since_idx = max(int(since.replace(tzinfo=UTC).timestamp() // b) - first, 0)
    keys, totals, negatives = dense_arrays(frame, first, last)
    if rule.kind == "volume":
        scores = volume_scores(totals, rule.period, rule.volume)
    else:
        scores = negative_scores(negatives, totals, rule.negative)
    epoch = datetime(1970, 1, 1)
    times = [epoch + timedelta(seconds=(first + i) * b) for i in range(since_idx, last - first + 1)]
    return {
        f"{scope_type}:{brand}/{value}": {
            "time": times,
            "observed": (negatives if rule.kind == "negative" else totals)[i, since_idx:],
            "z": scores.z[i, since_idx:],
            "alarm": scores.alarm[i, since_idx:],
        }
        for i, (brand, value) in enumerate(keys)
    }


BAND_Z = 2.0  # the expected band: expected +/- this many standard deviations


def _rule_for(cfg: AlertSettings, incident: Incident) -> Rule:
    """The rule that raised the incident (or, if it is gone from the config, one of its kind)."""
    named = {rule.name: rule for rule in cfg.rules}
    return named.get(incident.rule or "") or next(rule for rule in cfg.rules if rule.kind == incident.kind)


def scope_trace(
    store: Store, settings: Settings, incident: Incident, before: timedelta, after: timedelta
) -> pd.DataFrame:
    """The incident's scope per bucket from `before` its window to `after` it: time (UTC), observed
    (negatives for a negative spike, mentions for a volume one), expected as the detector reckons
    it bucket by bucket, and the band around it (BAND_Z standard deviations of the detector's model)."""
    cfg = load_alert_settings(settings)
    rule = _rule_for(cfg, incident)
    b = rule.bucket_seconds
    start, until = incident.window_start - cfg.lookback, incident.window_end + after
    # The scope's own counts only: it read every scope's over the lookback and kept one.
    frame = series.bucket_counts(
        store, incident.scope_type, b, start, until, (incident.brand or "", incident.scope_value)
    )
    first = max(int(start.replace(tzinfo=UTC).timestamp() // b), int(frame["bucket"].min()))
    last = int(until.replace(tzinfo=UTC).timestamp() // b)
    _, totals, negatives = dense_arrays(frame, first, last)
    if incident.kind == "volume":
        scores = volume_scores(totals, rule.period, rule.volume)
        observed, expected = totals[0], scores.expected[0]
        spread = np.sqrt(expected + 1)
    else:  # one bucket at a time, not the detector's best window: comparable with the bars
        params = replace(rule.negative, windows=(1,))
        scores = negative_scores(negatives, totals, params)
        observed, expected = negatives[0], scores.expected[0]
        spread = np.sqrt(expected + np.square(params.overdispersion * expected) + 1)
    epoch = datetime(1970, 1, 1)
    frame = pd.DataFrame(
        {
            "time": [epoch + timedelta(seconds=(first + i) * b) for i in range(last - first + 1)],
            "observed": observed,
            "expected": expected,
            "low": np.maximum(expected - BAND_Z * spread, 0),
            "high": expected + BAND_Z * spread,
        }
    )
    return frame[frame["time"] >= incident.window_start - before].reset_index(drop=True)
