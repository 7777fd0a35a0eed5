"""NAB (Numenta Anomaly Benchmark) scoring for binary detections, as NAB defines it.

A re-implementation of nab/sweeper.py for detectors that emit 0/1 flags (so the
threshold sweep collapses to one threshold):

- each labelled window counts once: the earliest flag inside it scores
  scaledSigmoid(position) * tpWeight / scaledSigmoid(-1), where position runs
  from -1 at the window's first point to about 0 at its last; a window without
  a flag scores -fnWeight;
- a flag outside every window scores scaledSigmoid(distance past the previous
  window / (previous width - 1)) * fpWeight (-1 * fpWeight before any window), so
  flags just after a window cost little and far ones cost the full fpWeight;
- flags in the probation period, min(floor(0.15 * N), 750) points, are ignored;
- the file scores add up, and the total is normalised with the null detector
  (no flags at all): 100 * (raw - null) / (perfect - null), perfect = windows * tpWeight.

See ../shared/datasets/nab/README.md; checked against the robust-z baseline
scores stated there (tests/alerts/test_nab.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

STANDARD_PROFILE = {"tp": 1.0, "fp": 0.11, "fn": 1.0}
PROBATION_PERCENT = 0.15


def scaled_sigmoid(position: float) -> float:
    """NAB's scaledSigmoid: 2 * sigmoid(-5 x) - 1, and -1 well past a window."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_length(n: int) -> int:
    # NAB: min(floor(probationPercent * len), probationPercent * 5000)
    return int(min(math.floor(PROBATION_PERCENT * n), PROBATION_PERCENT * 5000))


@dataclass
class FileScore:
    name: str
    raw: float
    windows: int
    windows_hit: int
    false_positives: int  # flags outside windows, after probation
    tp_flags: int  # flags inside windows, after probation
    delays: list[int] = field(default_factory=list)  # first flag's offset from window start, points


def score_file(
    name: str, n: int, flags: np.ndarray, windows: list[tuple[int, int]], profile: dict[str, float] | None = None
) -> FileScore:
    """Score one file. `flags` are detection indices (or a 0/1 array of length n);
    `windows` are (first, last) point indices, inclusive, sorted, non-overlapping."""
    profile = profile or STANDARD_PROFILE
    flagged = np.zeros(n, dtype=bool)
    flags = np.asarray(flags)
    if flags.dtype == bool or (flags.size == n and set(np.unique(flags)).issubset({0, 1}) and n > 1):
        flagged[:] = flags.astype(bool)[:n]
    else:
        flagged[flags.astype(int)] = True
    probation = probation_length(n)
    max_tp = scaled_sigmoid(-1.0)
    raw = 0.0
    hit = 0
    fp_count = 0
    tp_flags = 0
    delays: list[int] = []
    window_scores: list[float] = []
    # Walk the flags in time order, tracking the current / previous window as NAB does.
    flag_idx = np.flatnonzero(flagged)
    w = 0
    prev_right: int | None = None
    prev_width: float | None = None
    best = {i: None for i in range(len(windows))}  # type: dict[int, float | None]
    for i in flag_idx:
        while w < len(windows) and i > windows[w][1]:
            prev_right = windows[w][1]
            prev_width = float(windows[w][1] - windows[w][0] + 1)
            w += 1
        inside = w < len(windows) and windows[w][0] <= i <= windows[w][1]
        if i < probation:
            continue
        if inside:
            left, right = windows[w]
            width = float(right - left + 1)
            position = -(right - i + 1) / width
            weighted = scaled_sigmoid(position) * profile["tp"] / max_tp
            tp_flags += 1
            if best[w] is None:
                delays.append(int(i - left))
            best[w] = weighted if best[w] is None else max(best[w], weighted)  # type: ignore[type-var]
        else:
            if prev_right is None or prev_width is None:
                unweighted = -1.0
            else:
                unweighted = scaled_sigmoid(abs(prev_right - i) / (prev_width - 1.0))
            raw += unweighted * profile["fp"]
            fp_count += 1
    for k in range(len(windows)):
        if windows[k][1] < probation:
            continue  # NAB: a window inside the probation period is not scored
        score = best[k]
        if score is None:
            window_scores.append(-profile["fn"])
        else:
            hit += 1
            window_scores.append(score)
    raw += sum(window_scores)
    return FileScore(name, raw, len(windows), hit, fp_count, tp_flags, delays)


def normalised(raw_total: float, n_windows: int, profile: dict[str, float] | None = None) -> float:
    profile = profile or STANDARD_PROFILE
    null = -profile["fn"] * n_windows
    perfect = profile["tp"] * n_windows
    return 100.0 * (raw_total - null) / (perfect - null)


@dataclass
class NabSeries:
    name: str
    timestamps: np.ndarray  # datetime64[s]
    values: np.ndarray  # float
    windows: list[tuple[int, int]]


def load_realtweets(nab_dir: Path) -> list[NabSeries]:
    """The realTweets files with their labelled windows as point indices."""
    import pandas as pd

    windows_json = json.loads((nab_dir / "labels" / "combined_windows.json").read_text())
    out: list[NabSeries] = []
    for key in sorted(windows_json):
        if not key.startswith("realTweets/"):
            continue
        path = nab_dir / key
        frame = pd.read_csv(path)
        ts = pd.to_datetime(frame["timestamp"]).to_numpy(dtype="datetime64[s]")
        index = {t: i for i, t in enumerate(ts)}
        wins = []
        for start, end in windows_json[key]:
            a = np.datetime64(pd.Timestamp(start).to_datetime64(), "s")
            b = np.datetime64(pd.Timestamp(end).to_datetime64(), "s")
            wins.append((index[a], index[b]))
        out.append(NabSeries(Path(key).stem.removeprefix("Twitter_volume_"), ts, frame["value"].to_numpy(float), wins))
    return out
