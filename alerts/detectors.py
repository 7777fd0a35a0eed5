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


def _keep_freed_memory() -> None:
    """Let glibc reuse freed large blocks instead of returning them to the kernel.

    Every intermediate array here is a few MB; by default glibc maps each from the
    kernel and unmaps it when freed, so every pass page-faults its array in again.
    On the VMs this runs on, those faults were half of the detection time (measured:
    6-7 s -> 3.2-3.5 s per 1,000 scope-years). The cost: a process keeps up to its peak
    working set (hundreds of MB at most for the benchmark's blocks) until it exits.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 * 1024 * 1024)  # M_MMAP_THRESHOLD: blocks below this come from the heap
        libc.mallopt(-1, 1024 * 1024 * 1024)  # M_TRIM_THRESHOLD: keep this much freed heap for reuse
    except (OSError, AttributeError):
        pass  # not glibc: the default allocator is only slower, never wrong


_keep_freed_memory()

# Single precision halves the memory traffic, which is what bounds these passes; counts
# and z-scores need far fewer than 7 significant digits. Cumulative sums stay in double.
DTYPE = np.float32


def _ewma(x: np.ndarray, halflife: float) -> np.ndarray:
    """Exponentially weighted running sum-normalised mean along axis 1 (inclusive of t)."""
    alpha = 1.0 - 0.5 ** (1.0 / halflife)
    return lfilter(np.array([alpha], dtype=x.dtype), np.array([1.0, alpha - 1.0], dtype=x.dtype), x, axis=1)


def _ewm_mean(x: np.ndarray, weight: np.ndarray | None, halflife: float) -> np.ndarray:
    """Weighted EW mean that ignores buckets of weight 0 (missing or unreliable).
    `weight` None means every bucket counts (then the normaliser is a closed form)."""
    alpha = 1.0 - 0.5 ** (1.0 / halflife)
    if weight is None or weight.all():
        num = _ewma(x, halflife)
        den = (1.0 - (1.0 - alpha) ** np.arange(1, x.shape[1] + 1, dtype=float)).astype(x.dtype)
        return num / den[None, :]
    first = weight.argmax(axis=1)
    if (weight.sum(axis=1) == x.shape[1] - first).all():
        # Weight 0 only before each row's first counted bucket (the usual warm-up):
        # the normaliser is still a closed form, counted from that bucket.
        num = _ewma(np.where(weight, x, 0), halflife)
        t = x.shape[1]
        closed = (1.0 - (1.0 - alpha) ** np.arange(1, t + 1, dtype=float)).astype(x.dtype)
        for f in np.unique(first).tolist():  # rows grouped by where they start: few groups
            rows = np.flatnonzero(first == f)
            if rows.size == num.shape[0]:  # usually one group: plain slices, in place
                num[:, f:] /= closed[: t - f]
                num[:, :f] = np.nan
            else:
                num[rows, f:] = num[rows, f:] / closed[: t - f]
                num[rows, :f] = np.nan
        return num
    w = weight.astype(x.dtype)
    num = _ewma(np.where(w > 0, x * w, 0.0), halflife)
    den = _ewma(w, halflife)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, num / np.maximum(den, 1e-12), np.nan)


def _seasonal(y: np.ndarray, usable: np.ndarray, period: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Trimmed mean (highest and lowest dropped once there are 3 or more) of y at the same
    bucket on each of the previous `days` days, and how many of those days were usable.
    Works on a (scopes, days, period) view with in-place passes: no per-lag copies."""
    s, t = y.shape
    d_count = -(-t // period)
    width = d_count * period
    everything = bool(usable.all())

    def grid(values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full((s, width), fill, dtype=y.dtype)
        out[:, :t] = values
        return out.reshape(s, d_count, period)

    if everything:
        # The common case (no gaps): one grid serves the sum, the max and the min.
        vals = grid(y, 0.0)
        hi = lo = vals
        have = None
    else:
        vals = grid(np.where(usable, y, 0.0), 0.0)
        hi = grid(np.where(usable, y, -np.inf), -np.inf)
        lo = grid(np.where(usable, y, np.inf), np.inf)
        have = grid(usable, 0.0)
    total = np.zeros((s, d_count, period), dtype=y.dtype)
    top = np.full((s, d_count, period), -np.inf, dtype=y.dtype)
    bottom = np.full((s, d_count, period), np.inf, dtype=y.dtype)
    if have is None:
        # Day k has min(k, days) earlier days.
        count = np.broadcast_to(np.minimum(np.arange(d_count), days).astype(y.dtype)[None, :, None], total.shape)
    else:
        count = np.zeros((s, d_count, period), dtype=y.dtype)
    for lag in range(1, min(days, d_count - 1) + 1):
        # Day k looks back `lag` days, to day k - lag.
        total[:, lag:] += vals[:, : d_count - lag]
        np.maximum(top[:, lag:], hi[:, : d_count - lag], out=top[:, lag:])
        np.minimum(bottom[:, lag:], lo[:, : d_count - lag], out=bottom[:, lag:])
        if have is not None:
            count[:, lag:] += have[:, : d_count - lag]
    trim = count >= 3
    with np.errstate(invalid="ignore"):  # -inf + inf where fewer than 3 days: not used
        total -= np.where(trim, top + bottom, 0)
    total /= np.where(trim, count - 2, np.maximum(count, 1))
    return total.reshape(s, -1)[:, :t], np.ascontiguousarray(count).reshape(s, -1)[:, :t]


def _shift(x: np.ndarray, k: int, fill: float = np.nan) -> np.ndarray:
    """x moved k buckets later along axis 1: out[:, t] = x[:, t - k]."""
    out = np.full_like(x, fill)
    if k < x.shape[1]:
        out[:, k:] = x[:, : x.shape[1] - k]
    return out


def _moving_sum(x: np.ndarray, w: int, dtype: type = DTYPE) -> np.ndarray:
    """Sum over the last w buckets (fewer at the start). Short windows add shifted slices:
    exact, and an order of magnitude faster than a cumulative sum along the rows."""
    out: np.ndarray = x.astype(dtype)  # a copy
    if w <= 1:
        return out
    if w <= 48:
        for k in range(1, w):
            out[:, k:] += x[:, :-k]
        return out
    c = np.cumsum(x, axis=1, dtype=np.float64)
    out = c.astype(dtype)
    out[:, w:] = c[:, w:] - c[:, :-w]
    return out


def _window_sums(x: np.ndarray, windows: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Moving sums for several window lengths, each built from a shorter one that divides
    it where possible (the sum over 12 is four sums over 3), to save passes."""
    out: dict[int, np.ndarray] = {}
    for w in sorted(set(windows)):
        base = max((v for v in out if w % v == 0), default=None)
        if base is None:
            out[w] = _moving_sum(x, w)
            continue
        acc = out[base].copy()
        for k in range(1, w // base):
            acc[:, k * base :] += out[base][:, : -k * base]
        out[w] = acc
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


def volume_scores(
    counts: np.ndarray, period: int, params: VolumeParams | None = None, valid: np.ndarray | None = None
) -> Scores:
    """Volume spikes. counts: (scopes, buckets); period: buckets per day (0: no season)."""
    p = params or VolumeParams()
    x = np.atleast_2d(np.asarray(counts, dtype=DTYPE))
    ok = np.ones_like(x, dtype=bool) if valid is None else np.atleast_2d(valid).astype(bool)
    x = x if valid is None else np.where(ok, x, 0)
    if valid is None:  # every bucket counts: the window sizes are known without a pass
        smooth_ok = np.minimum(np.arange(1, x.shape[1] + 1), p.smooth).astype(DTYPE)[None, :]
    else:
        smooth_ok = _moving_sum(ok, p.smooth)
    xs = np.where(smooth_ok > 0, _moving_sum(x, p.smooth) / np.maximum(smooth_ok, 1), np.nan)
    y = np.log1p(xs) if p.transform == "log" else np.sqrt(xs)
    usable = ok & np.isfinite(y)
    # Seasonal baseline: trimmed mean (drop highest and lowest) of the same bucket on previous days.
    if period > 0 and p.season_days > 0:
        trimmed, count = _seasonal(np.where(usable, y, 0.0), usable, period, p.season_days)
        base = trimmed
        # No seasonal history yet (the first day): a short EW level, only where needed.
        early = int(min(y.shape[1], period * p.season_days))
        if early and (count[:, :early] == 0).any():
            level = _shift(_ewm_mean(np.where(usable[:, :early], y[:, :early], 0.0), usable[:, :early], period / 4), 1)
            base = base.copy()
            base[:, :early] = np.where(count[:, :early] > 0, trimmed[:, :early], level)
        # With a daily rhythm, no decision before a first day of history shows what the hour looks like.
        seasonal_ready = count > 0
    else:
        base = _shift(_ewm_mean(np.where(usable, y, 0.0), usable, 12.0), 1)
        seasonal_ready = np.ones_like(y, dtype=bool)
    w = usable & np.isfinite(base)
    res = np.where(w, y - base, 0.0)
    # Running robust scale: EW mean absolute residual (clipped, so a spike barely moves it), before t.
    mad = _shift(_ewm_mean(np.minimum(np.abs(res), 1.0), w, p.scale_halflife), 1)
    scale = np.maximum(np.where(np.isfinite(mad), 1.2533 * mad, p.scale_floor), p.scale_floor)
    z = res / scale
    # The series' own tail: RMS of positive z, before t. A noisy series must spike harder.
    zpos = np.square(np.clip(z, 0.0, 8.0))
    tail = np.sqrt(_shift(_ewm_mean(zpos, w, p.tail_halflife), 1, 0.0))
    threshold = np.maximum(p.z_min, p.tail_factor * 2.576 * np.where(np.isfinite(tail), tail, 0.0))
    expected = np.expm1(base) if p.transform == "log" else np.square(np.maximum(base, 0.0))
    expected = np.where(np.isfinite(expected), expected, 0.0)
    xs = np.where(np.isfinite(xs), xs, 0.0)
    alarm = w & seasonal_ready & (z > threshold) & (xs - expected >= p.min_excess)
    return Scores(z=z, alarm=alarm, observed=xs, expected=expected, extra={"threshold": threshold})


def negative_scores(
    negatives: np.ndarray, totals: np.ndarray, params: NegativeParams | None = None, valid: np.ndarray | None = None
) -> Scores:
    """Negative-share spikes. negatives, totals: (scopes, buckets)."""
    p = params or NegativeParams()
    n = np.atleast_2d(np.asarray(negatives, dtype=DTYPE))
    m = np.atleast_2d(np.asarray(totals, dtype=DTYPE))
    ok = np.ones_like(n, dtype=bool) if valid is None else np.atleast_2d(valid).astype(bool)
    if valid is not None:
        n = np.where(ok, n, 0)
        m = np.where(ok, m, 0)
    # Baseline share from buckets strictly before the window, with a prior for the first days.
    alpha = 1.0 - 0.5 ** (1.0 / p.share_halflife)
    ew_n = _ewma(n, p.share_halflife) / DTYPE(alpha)
    ew_m = _ewma(m, p.share_halflife) / DTYPE(alpha)
    best_z = np.zeros_like(n)
    alarm = np.zeros_like(n, dtype=bool)
    observed = np.zeros_like(n)
    expected = np.zeros_like(n)
    od2 = DTYPE(p.overdispersion**2)
    # The share known after each bucket; a window of w buckets uses the one from before it.
    share_all = ew_n + DTYPE(p.prior_share * p.prior_weight)
    share_all /= ew_m + DTYPE(p.prior_weight)
    sums_n = _window_sums(n, p.windows)
    sums_m = _window_sums(m, p.windows)
    # In-place arithmetic throughout: these passes are bound by memory traffic, not by flops.
    for w in p.windows:
        obs = sums_n[w]
        exp = _shift(share_all, w, p.prior_share)
        exp *= sums_m[w]
        var = np.square(exp)
        var *= od2
        var += exp
        var += 1
        np.sqrt(var, out=var)
        z = obs - exp
        z /= var
        fire = obs >= p.min_negatives
        fire &= obs >= exp * DTYPE(p.min_factor)
        fire &= z >= p.z_min
        if valid is not None:
            fire &= ok
        alarm |= fire
        # Keep the facts of the window with the highest z, as a branch-free blend: a masked
        # copy (np.where, copyto(where=)) with a scattered mask is several times slower.
        better = z > best_z
        step = obs - observed
        step *= better
        observed += step
        step = exp - expected
        step *= better
        expected += step
        np.maximum(best_z, z, out=best_z)
    return Scores(z=best_z, alarm=alarm, observed=observed, expected=expected)
