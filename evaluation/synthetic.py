"""Synthetic mention streams with injected negative spikes and decoys, and their scoring.

Each stream is per-bucket (15 minutes by default) counts of mentions and of
negative mentions for one brand over four weeks, with a daily and weekly
rhythm and overdispersed (gamma-Poisson) noise. Injected after a week of
warm-up, at least two days apart:

- negative spikes: sharp bursts (20 to 200 extra negatives over 1 to 4
  buckets) and slow burns (a ramp over a day up to about three times the
  usual negatives);
- decoys that must not alarm: a positive campaign (volume x2-4 for hours, the
  negative share unchanged or lower), a collection outage (zero items, marked
  unreliable as source health would) followed by a backfill (the outage's
  mentions arriving in one bucket, also marked), and quiet nights with 2 to 6
  negatives in an hour.

`evaluate` runs the negative detector over every stream and reports recall,
precision and the median delay from a spike's first bucket to the first alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alerts.detectors import NegativeParams, negative_scores, onsets

BUCKETS_PER_DAY = 96  # 15-minute buckets


@dataclass
class Injected:
    kind: str  # sharp | slow
    start: int
    end: int  # inclusive
    extra: int  # extra negatives injected in total


@dataclass
class Stream:
    totals: np.ndarray
    negatives: np.ndarray
    valid: np.ndarray
    spikes: list[Injected] = field(default_factory=list)
    decoys: list[tuple[str, int, int]] = field(default_factory=list)


def _rhythm(n: int, per_day: int) -> np.ndarray:
    t = np.arange(n)
    hour = (t % per_day) * 24.0 / per_day
    day = (t // per_day) % 7
    # Low at 4 a.m., high in the evening; weekends a third busier.
    daily = 0.12 + np.clip(np.sin((hour - 7.0) / 24.0 * 2 * np.pi) * 0.6 + 0.55, 0.0, None)
    weekly = np.where(day >= 5, 1.3, 1.0)
    return daily * weekly


def make_stream(rng: np.random.Generator, days: int = 28, per_day: int = BUCKETS_PER_DAY) -> Stream:
    n = days * per_day
    peak_rate = rng.uniform(6.0, 60.0)  # mentions per bucket at the busiest time
    share = rng.uniform(0.06, 0.2)
    rate = peak_rate * _rhythm(n, per_day) / 1.15
    gamma = rng.gamma(20.0, 1.0 / 20.0, size=n)  # overdispersion
    totals = rng.poisson(rate * gamma).astype(float)
    negatives = rng.binomial(totals.astype(int), share).astype(float)
    valid = np.ones(n, dtype=bool)
    stream = Stream(totals, negatives, valid)

    # Slots after a week of warm-up, at least two days apart, for 3 spikes and 3 decoys.
    slots = np.arange(7 * per_day + per_day // 2, n - per_day, 2 * per_day)
    chosen = rng.permutation(slots)[:6]
    kinds = ["spike", "spike", "spike", "campaign", "outage", "quiet"]
    for kind, slot in zip(kinds, chosen.tolist()):
        start = int(slot + rng.integers(0, per_day))
        if kind == "spike":
            if rng.random() < 0.65:
                length = int(rng.integers(1, 5))
                extra = int(rng.integers(20, 201))
                shape = np.exp(-np.arange(length) / 1.5)
                add = rng.multinomial(extra, shape / shape.sum()).astype(float)
                kind_name = "sharp"
            else:
                length = per_day
                usual = max(float(np.mean(rate[start : start + length])) * share, 1.0)
                ramp = np.linspace(0.1, 3.0, length) * usual
                add = rng.poisson(ramp).astype(float)
                extra = int(add.sum())
                kind_name = "slow"
            end = start + length - 1
            stream.negatives[start : end + 1] += add
            stream.totals[start : end + 1] += add
            stream.spikes.append(Injected(kind_name, start, end, extra))
        elif kind == "campaign":
            length = int(rng.integers(per_day // 6, per_day // 2))
            lift = rng.uniform(2.0, 4.0)
            end = start + length - 1
            extra_totals = rng.poisson(rate[start : end + 1] * (lift - 1.0))
            # A positive campaign: the extra mentions are mostly positive.
            extra_neg = rng.binomial(extra_totals, share * rng.uniform(0.3, 1.0))
            stream.totals[start : end + 1] += extra_totals
            stream.negatives[start : end + 1] += extra_neg
            stream.decoys.append(("campaign", start, end))
        elif kind == "outage":
            length = int(rng.integers(per_day // 6, per_day // 2))
            end = start + length - 1
            lost_t = stream.totals[start : end + 1].sum()
            lost_n = stream.negatives[start : end + 1].sum()
            stream.totals[start : end + 1] = 0
            stream.negatives[start : end + 1] = 0
            # The backfill lands in the bucket after the outage; source health marks both unreliable.
            stream.totals[end + 1] += lost_t
            stream.negatives[end + 1] += lost_n
            stream.valid[start : end + 2] = False
            stream.decoys.append(("outage+backfill", start, end + 1))
        else:
            # A quiet night: 2 to 6 negatives in one hour at 2-5 a.m.
            night = (start // per_day) * per_day + int(rng.integers(2, 5)) * per_day // 24
            hour = per_day // 24
            count = int(rng.integers(2, 7))
            where = night + rng.integers(0, hour, size=count)
            np.add.at(stream.negatives, where, 1)
            np.add.at(stream.totals, where, 1)
            stream.decoys.append(("quiet night", night, night + hour - 1))
    return stream


@dataclass
class SyntheticResult:
    streams: int
    spikes: int
    detected: int
    alarms: int
    true_alarms: int
    false_alarms: int
    delays: list[int]
    false_by_decoy: dict[str, int]

    @property
    def recall(self) -> float:
        return self.detected / self.spikes if self.spikes else 1.0

    @property
    def precision(self) -> float:
        return self.true_alarms / self.alarms if self.alarms else 1.0

    @property
    def median_delay(self) -> float:
        return float(np.median(self.delays)) if self.delays else float("nan")


def evaluate(
    n_streams: int = 60, seed: int = 20261123, params: NegativeParams | None = None, grace: int = 4
) -> SyntheticResult:
    """Run the negative detector over fresh synthetic streams and score it.

    An alarm (event onset) within [spike start, spike end + grace] is true;
    any other alarm is false (and charged to the decoy it overlaps, if any)."""
    p = params or NegativeParams()
    rng = np.random.default_rng(seed)
    streams = [make_stream(rng) for _ in range(n_streams)]
    negatives = np.stack([s.negatives for s in streams])
    totals = np.stack([s.totals for s in streams])
    valid = np.stack([s.valid for s in streams])
    scores = negative_scores(negatives, totals, p, valid)
    starts = onsets(scores.alarm, p.cooldown)
    spikes = detected = alarms = true_alarms = 0
    delays: list[int] = []
    false_by: dict[str, int] = {}
    for row, stream in enumerate(streams):
        onset_idx = np.flatnonzero(starts[row])
        alarms += onset_idx.size
        matched = np.zeros(onset_idx.size, dtype=bool)
        for spike in stream.spikes:
            spikes += 1
            inside = (onset_idx >= spike.start) & (onset_idx <= spike.end + grace)
            if inside.any():
                detected += 1
                delays.append(int(onset_idx[inside][0] - spike.start))
            matched |= inside
        true_alarms += int(matched.sum())
        for idx in onset_idx[~matched].tolist():
            label = next((name for name, a, b in stream.decoys if a <= idx <= b + grace), "background")
            false_by[label] = false_by.get(label, 0) + 1
    return SyntheticResult(n_streams, spikes, detected, alarms, true_alarms, alarms - true_alarms, delays, false_by)
