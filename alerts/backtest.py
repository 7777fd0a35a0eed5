"""Replay stored history through one rule: when would it have fired?

Detection is causal (the decision at t uses data up to t only), so running a
rule over the stored history gives exactly the alarms it would have raised
live. Nothing is written: this is for tuning thresholds against alert fatigue
before a rule goes live (`koubei backtest`, and the dashboard's settings page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts.config import Rule, load_alert_settings
from alerts.detect import dense_arrays
from alerts.detectors import negative_scores, volume_scores
from alerts.events import events_from_scores
from koubei.config import Settings
from storage import Store
from storage import alerts_series as series
from storage.db import naive_utc

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
    until = until or datetime.now(UTC).replace(tzinfo=None)
    since = naive_utc(since)
    result = Backtest(rule, since, until)
    b = rule.bucket_seconds
    start = since - CONTEXT
    context_first = int(start.replace(tzinfo=UTC).timestamp() // b)
    last = int(until.replace(tzinfo=UTC).timestamp() // b)
    epoch = datetime(1970, 1, 1)
    for stype in [scope_type] if scope_type else list(rule.scopes):
        with open_store() as store:
            frame = series.bucket_counts(store, stype, b, start, until)
        if len(frame) == 0:
            continue
        # Buckets before the first stored mention are "not collected yet", not zeros.
        first = max(context_first, int(frame["bucket"].min()))
        since_idx = max(int(since.replace(tzinfo=UTC).timestamp() // b) - first, 0)
        keys, totals, negatives = dense_arrays(frame, first, last)
        n = last - first + 1
        if rule.kind == "volume":
            scores = volume_scores(totals, rule.period, rule.volume)
        else:
            scores = negative_scores(negatives, totals, rule.negative)
        times = [epoch + timedelta(seconds=(first + i) * b) for i in range(n)]
        for ev in events_from_scores(rule.kind, scores, rule.cooldown, cfg.severity):
            if ev.start < since_idx:
                continue
            brand, value = keys[ev.scope]
            result.firings.append(
                Firing(
                    stype,
                    brand,
                    value,
                    times[ev.start],
                    times[ev.end] + timedelta(seconds=b),
                    times[ev.peak],
                    ev.observed,
                    ev.expected,
                    ev.score,
                    ev.severity,
                )
            )
        for i, (brand, value) in enumerate(keys):
            observed = negatives[i] if rule.kind == "negative" else totals[i]
            result.traces[f"{stype}:{brand}/{value}"] = {
                "time": times[since_idx:],
                "observed": observed[since_idx:],
                "z": scores.z[i, since_idx:],
                "alarm": scores.alarm[i, since_idx:],
            }
    result.firings.sort(key=lambda f: (f.start, f.scope_type, f.scope_value))
    return result
