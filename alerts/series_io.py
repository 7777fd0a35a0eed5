"""The detection contract on any data: a CSV series in, incidents out.

Columns `timestamp,value` (volume) or `timestamp,total,negative` (negative
share). A timestamp is a date and time, or a Unix time in seconds (in
milliseconds from 1e11 up). Values are finite counts up to MAX_COUNT.

The bucket length is inferred from the data: the most common step between
timestamps when at least half the steps are that step (a regular series with
gaps), else the median step rounded down to a usual length (1s, 1m, 5m, 15m,
1h, 1d, 1w), so a few rows at odd times make a coarse grid, not a fine one.
Missing buckets count as empty. A grid of more than MAX_BUCKETS buckets is an
error that names the rows spanning it (a stray year-2200 row, a mixed-up unit)
rather than an allocation of gigabytes. Parameters tuned for 5-minute buckets
are scaled to the series' bucket so that time spans (smoothing, cooldown,
baseline half-lives) stay the same in hours.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from alerts.detectors import NegativeParams, VolumeParams
from alerts.events import detect_negative, detect_volume
from koubei.errors import ImportFileError

MAX_BUCKETS = 1_000_000  # 8 MB a column: nearly two years of 1-minute buckets
MAX_COUNT = 1e15  # more than any count a bucket holds; 1e308 would overflow the detectors' sums
REGULAR_SHARE = 0.5  # the most common step is the step when at least this share of steps are it
USUAL_STEPS = (1, 60, 300, 900, 3600, 86400, 604800)
EPOCH_MS_FROM = 1e11  # a Unix time this large is in milliseconds (1e11 s is the year 5138)


def volume_params_for(bucket_seconds: int, base: VolumeParams | None = None) -> VolumeParams:
    p = base or VolumeParams()
    k = 300.0 / bucket_seconds  # the defaults are for 5-minute buckets
    return replace(
        p,
        smooth=max(1, round(p.smooth * k)),
        cooldown=max(1, round(p.cooldown * k)),
        scale_halflife=max(4.0, p.scale_halflife * k),
        tail_halflife=max(4.0, p.tail_halflife * k),
    )


def negative_params_for(bucket_seconds: int, base: NegativeParams | None = None) -> NegativeParams:
    p = base or NegativeParams()
    k = 900.0 / bucket_seconds  # the defaults are for 15-minute buckets
    windows = tuple(sorted({max(1, round(w * k)) for w in p.windows}))
    return replace(
        p, windows=windows, cooldown=max(1, round(p.cooldown * k)), share_halflife=max(4.0, p.share_halflife * k)
    )


def read_series(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """(bucket start times, columns, bucket seconds), on a regular grid."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ImportFileError(f"{path}: cannot read as CSV: {exc}") from exc
    cols = [str(c).strip().lower() for c in frame.columns]
    frame.columns = cols
    if "timestamp" not in cols or not ({"value"} <= set(cols) or {"total", "negative"} <= set(cols)):
        raise ImportFileError(
            f"{path}: need columns timestamp,value or timestamp,total,negative; found {','.join(cols)}"
        )
    if len(frame) < 2:
        raise ImportFileError(f"{path}: need at least two rows")
    seconds = _epoch_seconds(path, frame["timestamp"])
    numeric = {name: _counts(path, frame[name], name) for name in ("value", "total", "negative") if name in cols}
    order = np.argsort(seconds, kind="stable")
    seconds = seconds[order]
    bucket = infer_step(path, np.diff(seconds))
    n = int((seconds[-1] - seconds[0]) // bucket) + 1
    if n > MAX_BUCKETS:
        first, last = int(order[0]) + 2, int(order[-1]) + 2  # +1 header, +1 one-based
        raise ImportFileError(
            f"{path}: rows {first} ({_iso(seconds[0])}) to {last} ({_iso(seconds[-1])}) span {n:,} buckets"
            f" of {bucket}s, more than {MAX_BUCKETS:,}: check those times, or aggregate the series to a coarser step"
        )
    index = (seconds - seconds[0]) // bucket
    grid: dict[str, np.ndarray] = {}
    for name, col in numeric.items():
        dense = np.zeros(n)
        np.add.at(dense, index, col[order])
        grid[name] = dense
    times = seconds[0] + np.arange(n) * bucket
    return times, grid, bucket


def _epoch_seconds(path: Path, column: Any) -> np.ndarray:
    """Whole seconds since the epoch of each row's timestamp: a Unix time, or a date and time."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column):
        raise ImportFileError(f"{path}: row 2, column timestamp: not a time: {column.iloc[0]!r}")
    if pd.api.types.is_numeric_dtype(column):
        number = column.to_numpy(float)
        number = np.where(np.abs(number) >= EPOCH_MS_FROM, number / 1000, number)
        ts = pd.to_datetime(pd.Series(number).where(np.isfinite(number)), unit="s", errors="coerce", utc=True)
    else:
        ts = pd.to_datetime(column, errors="coerce", utc=True)
    bad = ts.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ImportFileError(f"{path}: row {row + 2}, column timestamp: not a time: {column.iloc[row]!r}")
    return ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(dtype="int64")


def _counts(path: Path, column: Any, name: str) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(column, errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values > MAX_COUNT)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ImportFileError(f"{path}: row {row + 2}, column {name}: not a count: {column.iloc[row]!r}")
    return values


def infer_step(path: Path, steps: np.ndarray) -> int:
    """The series' bucket in seconds, from the steps between its sorted timestamps."""
    steps = steps[steps > 0]
    if steps.size == 0:
        raise ImportFileError(f"{path}: all rows have the same timestamp")
    values, counts = np.unique(steps, return_counts=True)
    common = int(np.argmax(counts))
    if counts[common] >= REGULAR_SHARE * steps.size:
        return int(values[common])
    median = float(np.median(steps))
    return max(step for step in USUAL_STEPS if step <= max(median, 1))


def _iso(second: int) -> str:
    return datetime.fromtimestamp(int(second), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def detect_series(path: Path) -> list[dict[str, Any]]:
    times, cols, bucket = read_series(path)
    period = 86400 // bucket if 86400 // bucket >= 2 else 0
    if "value" in cols:
        events = detect_volume(cols["value"][None, :], period, volume_params_for(bucket))
    else:
        if (cols["negative"] > cols["total"]).any():
            i = int(np.flatnonzero(cols["negative"] > cols["total"])[0])
            raise ImportFileError(f"{path}: bucket {i}: negative exceeds total")
        events = detect_negative(cols["negative"][None, :], cols["total"][None, :], negative_params_for(bucket))

    def iso(i: int) -> str:
        return _iso(int(times[0] + i * bucket))

    return [
        {
            "start": iso(e.start),
            "end": iso(e.end + 1),
            "peak": iso(e.peak),
            "kind": e.kind,
            "score": round(e.score, 3),
            "severity": e.severity,
            "observed": round(e.observed, 3),
            "expected": round(e.expected, 3),
        }
        for e in events
    ]
