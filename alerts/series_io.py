"""The detection contract on any data: a CSV series in, incidents out.

Columns `timestamp,value` (volume) or `timestamp,total,negative` (negative
share). The bucket length is the most common step between timestamps;
missing buckets count as empty. Parameters tuned for 5-minute buckets are
scaled to the series' bucket so that time spans (smoothing, cooldown,
baseline half-lives) stay the same in hours.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

from alerts.detectors import NegativeParams, VolumeParams
from alerts.events import detect_negative, detect_volume
from koubei.errors import ImportFileError


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
    cols = [c.strip().lower() for c in frame.columns]
    frame.columns = cols
    if "timestamp" not in cols or not ({"value"} <= set(cols) or {"total", "negative"} <= set(cols)):
        raise ImportFileError(
            f"{path}: need columns timestamp,value or timestamp,total,negative; found {','.join(cols)}"
        )
    ts = pd.to_datetime(frame["timestamp"], errors="coerce", utc=True)
    bad = ts.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # +1 header, +1 one-based
        raise ImportFileError(f"{path}: row {row}, column timestamp: not a time: {frame['timestamp'].iloc[row - 2]!r}")
    numeric = {}
    for name in ("value", "total", "negative"):
        if name in cols:
            values = pd.to_numeric(frame[name], errors="coerce")
            if values.isna().any() or (values < 0).any():
                row = int(np.flatnonzero((values.isna() | (values < 0)).to_numpy())[0]) + 2
                raise ImportFileError(f"{path}: row {row}, column {name}: not a count: {frame[name].iloc[row - 2]!r}")
            numeric[name] = values.to_numpy(float)
    if len(ts) < 2:
        raise ImportFileError(f"{path}: need at least two rows")
    # Whole seconds since the epoch, whatever resolution pandas chose for the column.
    seconds = ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(dtype="int64")
    order = np.argsort(seconds, kind="stable")
    seconds = seconds[order]
    steps = np.diff(seconds)
    steps = steps[steps > 0]
    if steps.size == 0:
        raise ImportFileError(f"{path}: all rows have the same timestamp")
    values, counts = np.unique(steps, return_counts=True)
    bucket = int(values[np.argmax(counts)])
    index = (seconds - seconds[0]) // bucket
    n = int(index[-1]) + 1
    grid = {}
    for name, col in numeric.items():
        dense = np.zeros(n)
        np.add.at(dense, index, col[order])
        grid[name] = dense
    times = seconds[0] + np.arange(n) * bucket
    return times, grid, bucket


def detect_series(path: Path) -> list[dict[str, Any]]:
    from datetime import datetime

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
        return datetime.fromtimestamp(int(times[0] + i * bucket), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

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
