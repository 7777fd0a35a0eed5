"""Spike detectors: pure numpy over (scopes x buckets) arrays, causal by construction.

Every baseline at bucket t is built from buckets before t only (shifted
exponential filters and seasonal lags), so running the same series cut short
gives the same decisions before the cut. Work is vectorised across scopes and
time (scipy's lfilter for the exponential filters), which is what lets one
core scan a year of 5-minute buckets for 1,000 scopes in a few seconds.

Two detectors:

- `volume_scores`: log counts against a seasonal baseline (trimmed mean of the
  same bucket on the previous days, so the daily rhythm is expected), divided
  by a running robust scale, then judged against the series' own recent tail
  of scores (a noisy series has to spike harder than a calm one).
- `negative_scores`: negatives against total x the baseline negative share, so
  a campaign that lifts volume without lifting the share is not a spike; counts
  are judged with a Poisson-with-overdispersion z and a minimum count (2 to 6
  negatives at night is noise), over several window lengths so both sharp
  bursts and slow burns over a day are caught.

`onsets` turns per-bucket alarms into one event per ongoing burst.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter


@dataclass(frozen=True)
class VolumeParams:
    smooth: int = 5  # buckets in the moving mean the detector looks at
    season_days: int = 7  # previous days whose same bucket forms the baseline
    scale_halflife: float = 2016.0  # buckets (a week of 5-minute buckets)
    scale_floor: float = 0.1  # in log units: below +10% nothing is a spike
    z_min: float = 3.5  # the least z that can alarm
    tail_factor: float = 1.6  # alarm only above this x the series' recent tail of z
    tail_halflife: float = 2016.0
    min_excess: float = 0.0  # least absolute excess count over expected (per bucket, smoothed)
    cooldown: int = 288  # buckets after an onset in which the same burst does not alarm again
    transform: str = "log"  # log: relative changes; sqrt: variance-stabilised counts (low hourly counts)


@dataclass(frozen=True)
class NegativeParams:
    windows: tuple[int, ...] = (1, 3, 12)  # window lengths in buckets (sharp burst .. slow burn)
    share_halflife: float = 2016.0  # buckets for the baseline negative share
    prior_share: float = 0.15  # before there is history
    prior_weight: float = 50.0  # mentions' worth of weight on the prior share
    min_negatives: float = 8.0  # negatives in the window below which nothing alarms
    min_factor: float = 2.0  # observed / expected negatives
    z_min: float = 4.0
    overdispersion: float = 0.3  # extra relative variance: counts are burstier than Poisson
    cooldown: int = 36


@dataclass
class Scores:
    """Per-bucket detector output, all (scopes x buckets)."""

    z: np.ndarray
    alarm: np.ndarray  # bool
    observed: np.ndarray
    expected: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def _ewma(x: np.ndarray, halflife: float) -> np.ndarray:
    """Exponentially weighted running sum-normalised mean along axis 1 (inclusive of t)."""
    alpha = 1.0 - 0.5 ** (1.0 / halflife)
    return lfilter([alpha], [1.0, alpha - 1.0], x, axis=1)


def _ewm_mean(x: np.ndarray, weight: np.ndarray, halflife: float) -> np.ndarray:
    """Weighted EW mean that ignores buckets of weight 0 (missing or unreliable)."""
    num = _ewma(np.where(weight > 0, x * weight, 0.0), halflife)
    den = _ewma(weight.astype(float), halflife)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, num / np.maximum(den, 1e-12), np.nan)


def _shift(x: np.ndarray, k: int, fill: float = np.nan) -> np.ndarray:
    """x moved k buckets later along axis 1: out[:, t] = x[:, t - k]."""
    out = np.full_like(x, fill, dtype=float)
    if k < x.shape[1]:
        out[:, k:] = x[:, : x.shape[1] - k]
    return out


def _moving_sum(x: np.ndarray, w: int) -> np.ndarray:
    if w <= 1:
        return x.astype(float)
    c = np.cumsum(x, axis=1, dtype=float)
    out = c.copy()
    out[:, w:] = c[:, w:] - c[:, :-w]
    return out


def onsets(alarm: np.ndarray, cooldown: int) -> np.ndarray:
    """One event per burst: an alarm starts an event unless another started
    fewer than `cooldown` buckets before. Returns a bool array of onsets."""
    alarm = np.atleast_2d(alarm)
    out = np.zeros_like(alarm, dtype=bool)
    rows, cols = np.nonzero(alarm)
    # Alarms are sparse: a python walk over them is cheap next to the filters.
    last_row, last = -1, -(10**12)
    for r, c in zip(rows.tolist(), cols.tolist()):
        if r != last_row:
            last_row, last = r, -(10**12)
        if c - last > cooldown:
            out[r, c] = True
            last = c
    return out


def volume_scores(counts: np.ndarray, period: int, params: VolumeParams | None = None,
                  valid: np.ndarray | None = None) -> Scores:
    """Volume spikes. counts: (scopes, buckets); period: buckets per day (0: no season)."""
    p = params or VolumeParams()
    x = np.atleast_2d(np.asarray(counts, dtype=float))
    ok = np.ones_like(x, dtype=bool) if valid is None else np.atleast_2d(valid).astype(bool)
    x = np.where(ok, x, 0.0)
    smooth_ok = _moving_sum(ok.astype(float), p.smooth)
    xs = np.where(smooth_ok > 0, _moving_sum(x, p.smooth) / np.maximum(smooth_ok, 1), np.nan)
    y = np.log1p(xs) if p.transform == "log" else np.sqrt(xs)
    usable = ok & np.isfinite(y)
    # Seasonal baseline: trimmed mean (drop highest and lowest) of the same bucket on previous days.
    if period > 0 and p.season_days > 0:
        total = np.zeros_like(y)
        count = np.zeros_like(y)
        hi = np.full_like(y, -np.inf)
        lo = np.full_like(y, np.inf)
        for d in range(1, p.season_days + 1):
            lag = _shift(np.where(usable, y, np.nan), d * period)
            has = np.isfinite(lag)
            lag0 = np.where(has, lag, 0.0)
            total += lag0
            count += has
            hi = np.where(has, np.maximum(hi, lag), hi)
            lo = np.where(has, np.minimum(lo, lag), lo)
        edges = np.where(count >= 3, np.where(np.isfinite(hi), hi, 0.0) + np.where(np.isfinite(lo), lo, 0.0), 0.0)
        trimmed = (total - edges) / np.where(count >= 3, count - 2, np.maximum(count, 1))
        level = _shift(_ewm_mean(np.nan_to_num(y), usable.astype(float), period / 4), 1)
        base = np.where(count > 0, trimmed, level)
        # With a daily rhythm, no decision before a first day of history shows what the hour looks like.
        seasonal_ready = count > 0
    else:
        seasonal_ready = np.ones_like(y, dtype=bool)
        base = _shift(_ewm_mean(np.nan_to_num(y), usable.astype(float), 12.0), 1)
    res = y - base
    # Running robust scale: EW mean absolute residual (clipped, so a spike barely moves it), before t.
    clipped = np.clip(np.abs(np.nan_to_num(res)), 0.0, 1.0)
    w = (usable & np.isfinite(res)).astype(float)
    mad = _shift(_ewm_mean(clipped, w, p.scale_halflife), 1)
    scale = np.maximum(1.2533 * np.nan_to_num(mad, nan=p.scale_floor), p.scale_floor)
    z = np.nan_to_num(res / scale)
    # The series' own tail: RMS of positive z, before t. A noisy series must spike harder.
    zpos = np.clip(z, 0.0, 8.0) ** 2
    tail = np.sqrt(np.nan_to_num(_shift(_ewm_mean(zpos, w, p.tail_halflife), 1), nan=0.0))
    threshold = np.maximum(p.z_min, p.tail_factor * 2.576 * tail)
    expected = np.expm1(base) if p.transform == "log" else np.square(np.maximum(base, 0.0))
    excess = xs - np.nan_to_num(expected)
    warm = np.isfinite(base) & seasonal_ready
    alarm = usable & warm & (z > threshold) & (excess >= p.min_excess)
    return Scores(z=z, alarm=alarm, observed=np.nan_to_num(xs), expected=np.nan_to_num(expected),
                  extra={"threshold": threshold})


def negative_scores(negatives: np.ndarray, totals: np.ndarray, params: NegativeParams | None = None,
                    valid: np.ndarray | None = None) -> Scores:
    """Negative-share spikes. negatives, totals: (scopes, buckets)."""
    p = params or NegativeParams()
    n = np.atleast_2d(np.asarray(negatives, dtype=float))
    m = np.atleast_2d(np.asarray(totals, dtype=float))
    ok = np.ones_like(n, dtype=bool) if valid is None else np.atleast_2d(valid).astype(bool)
    n = np.where(ok, n, 0.0)
    m = np.where(ok, m, 0.0)
    # Baseline share from buckets strictly before the window, with a prior for the first days.
    alpha = 1.0 - 0.5 ** (1.0 / p.share_halflife)
    ew_n = _ewma(n, p.share_halflife) / alpha
    ew_m = _ewma(m, p.share_halflife) / alpha
    best_z = np.zeros_like(n)
    alarm = np.zeros_like(n, dtype=bool)
    observed = np.zeros_like(n)
    expected = np.zeros_like(n)
    for w in p.windows:
        # Shares known before the window began: the burst must not dilute its own baseline.
        base_n = _shift(ew_n, w, 0.0)
        base_m = _shift(ew_m, w, 0.0)
        share = (base_n + p.prior_share * p.prior_weight) / (base_m + p.prior_weight)
        obs = _moving_sum(n, w)
        tot = _moving_sum(m, w)
        exp = tot * share
        var = exp + (p.overdispersion * exp) ** 2 + 1.0
        z = (obs - exp) / np.sqrt(var)
        fire = ok & (obs >= p.min_negatives) & (obs >= p.min_factor * exp) & (z >= p.z_min)
        better = z > best_z
        best_z = np.where(better, z, best_z)
        observed = np.where(better, obs, observed)
        expected = np.where(better, exp, expected)
        alarm |= fire
    return Scores(z=best_z, alarm=alarm, observed=observed, expected=expected)
