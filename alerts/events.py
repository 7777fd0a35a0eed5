"""From per-bucket scores to events (one per burst) with facts and a severity tier.

An event starts at an onset (see detectors.onsets) and spans the alarms that
follow it until the next onset; its peak is the bucket with the highest z.
Severity maps onto the five triage tiers of DOMAIN.md (1 praise .. 5 red
alert) from how far observed exceeds expected; a spike is never below tier 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alerts.detectors import NegativeParams, Scores, VolumeParams, negative_scores, onsets, volume_scores


@dataclass(frozen=True)
class SeverityRules:
    """Tier t (3..5) needs excess >= excess[t-3] and factor >= factor[t-3]."""

    volume_excess: tuple[float, float, float] = (20.0, 100.0, 500.0)
    volume_factor: tuple[float, float, float] = (2.0, 4.0, 8.0)
    negative_excess: tuple[float, float, float] = (15.0, 50.0, 150.0)
    negative_factor: tuple[float, float, float] = (2.0, 3.0, 5.0)
    # A negative burst carrying this many mentions that the triage put at tier 5 (safety,
    # legal, regulator, media, mass impact) is a red alert whatever its size.
    red_alert_mentions: int = 3


def severity(kind: str, observed: float, expected: float, rules: SeverityRules | None = None) -> int:
    r = rules or SeverityRules()
    excess_t, factor_t = (
        (r.negative_excess, r.negative_factor) if kind == "negative" else (r.volume_excess, r.volume_factor)
    )
    excess = observed - expected
    factor = observed / max(expected, 1.0)
    tier = 2
    for i in range(3):
        if excess >= excess_t[i] and factor >= factor_t[i]:
            tier = 3 + i
    return tier


@dataclass
class Event:
    kind: str  # volume | negative
    scope: int  # row in the input arrays
    start: int  # bucket indices
    end: int
    peak: int
    observed: float  # at the peak (window sum for negative, smoothed count for volume)
    expected: float
    score: float  # z at the peak
    severity: int


def events_from_scores(kind: str, scores: Scores, cooldown: int, rules: SeverityRules | None = None) -> list[Event]:
    starts = onsets(scores.alarm, cooldown)
    out: list[Event] = []
    for row in range(scores.alarm.shape[0]):
        alarm_idx = np.flatnonzero(scores.alarm[row])
        start_idx = np.flatnonzero(starts[row])
        for j, s in enumerate(start_idx.tolist()):
            nxt = start_idx[j + 1] if j + 1 < len(start_idx) else scores.alarm.shape[1]
            span = alarm_idx[(alarm_idx >= s) & (alarm_idx < nxt)]
            end = int(span[-1]) if span.size else s
            seg = scores.z[row, s : end + 1]
            peak = s + int(np.argmax(seg))
            obs = float(scores.observed[row, peak])
            exp = float(scores.expected[row, peak])
            # Severity from the worst bucket of the event, so a growing burst re-tiers.
            sev = max(
                severity(kind, float(scores.observed[row, i]), float(scores.expected[row, i]), rules)
                for i in range(s, end + 1)
                if scores.alarm[row, i]
            )
            out.append(Event(kind, row, s, end, peak, obs, exp, float(scores.z[row, peak]), sev))
    return out


def detect_volume(
    counts: np.ndarray,
    period: int,
    params: VolumeParams | None = None,
    valid: np.ndarray | None = None,
    rules: SeverityRules | None = None,
) -> list[Event]:
    p = params or VolumeParams()
    return events_from_scores("volume", volume_scores(counts, period, p, valid), p.cooldown, rules)


def detect_negative(
    negatives: np.ndarray,
    totals: np.ndarray,
    params: NegativeParams | None = None,
    valid: np.ndarray | None = None,
    rules: SeverityRules | None = None,
) -> list[Event]:
    p = params or NegativeParams()
    return events_from_scores("negative", negative_scores(negatives, totals, p, valid), p.cooldown, rules)
