"""The NAB scorer against NAB's own definition and the reference results in ../shared."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from alerts.detectors import onsets
from evaluation.nab import load_realtweets, normalised, probation_length, scaled_sigmoid, score_file
from evaluation.spikes import nab_eval


def test_scaled_sigmoid_matches_nab_formula() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(3.5) == -1.0
    assert probation_length(15902) == 750
    assert probation_length(1000) == 150


def test_score_file_by_hand() -> None:
    # 2000 points, probation 300; one window [1000, 1099].
    windows = [(1000, 1099)]
    # A flag at the window's first point earns the full tpWeight.
    assert score_file("x", 2000, np.array([1000]), windows).raw == pytest.approx(1.0)
    # No flag at all: the null detector, -fnWeight per window.
    assert score_file("x", 2000, np.array([], dtype=int), windows).raw == pytest.approx(-1.0)
    # A flag before any window costs the full fpWeight; one in the probation costs nothing.
    r = score_file("x", 2000, np.array([100, 500, 1050]), windows)
    expected_tp = scaled_sigmoid(-(1099 - 1050 + 1) / 100) / scaled_sigmoid(-1.0)
    assert r.raw == pytest.approx(expected_tp - 0.11)
    assert r.false_positives == 1
    # Just after the window a false positive is cheap; far after, it costs nearly 0.11.
    near = score_file("x", 2000, np.array([1000, 1101]), windows).raw - 1.0
    far = score_file("x", 2000, np.array([1000, 1900]), windows).raw - 1.0
    assert -0.011 < near < 0 and far == pytest.approx(-0.11, abs=1e-6)
    assert normalised(-1.0, 1) == 0.0 and normalised(1.0, 1) == 100.0


def _robust_z(values: np.ndarray) -> np.ndarray:
    """The README's baseline: z = (x - median(prev 288)) / max(1.4826 * MAD(prev 288), 1)."""
    from numpy.lib.stride_tricks import sliding_window_view

    windows = sliding_window_view(values[:-1], 288)  # windows[i] = values[i : i + 288], scored at i + 288
    med = np.median(windows, axis=1)
    mad = np.median(np.abs(windows - med[:, None]), axis=1)
    z = np.zeros(len(values))
    z[288:] = (values[288:] - med) / np.maximum(1.4826 * mad, 1.0)
    return z


def test_scorer_reproduces_reference_baseline_scores(shared_dir: Path) -> None:
    """reference_results/baseline_robustz_shesd_realTweets.csv states the NAB standard scores of the
    robust-z baseline; our scorer must give the same numbers."""
    import csv

    nab_dir = shared_dir / "datasets" / "nab"
    stated = {}
    with open(nab_dir / "reference_results" / "baseline_robustz_shesd_realTweets.csv") as fh:
        for row in csv.DictReader(fh):
            name = row["detector"]
            if name.startswith("robust-z"):
                k = float(name.split("k=")[1].split()[0])
                stated[(k, "cooldown" in name)] = float(row["nab_std_realTweets"])
    assert len(stated) == 8
    per_series = {}
    with open(nab_dir / "reference_results" / "baseline_robustz_per_series.csv") as fh:
        for row in csv.DictReader(fh):
            per_series[(float(row["k"]), row["series"])] = (int(row["detected"]), int(row["flags"]))
    series = load_realtweets(nab_dir)
    assert len(series) == 10 and sum(len(s.windows) for s in series) == 33
    zs = {s.name: _robust_z(s.values) for s in series}
    for (k, cooldown), score in stated.items():
        files = []
        for s in series:
            flags = zs[s.name] > k  # flag if z > k
            if cooldown:  # "+1h cooldown": no flag within 12 points (1 hour) of the last one kept
                flags = onsets(flags[None, :], 12)[0]
            result = score_file(s.name, len(s.values), flags, s.windows)
            if not cooldown:
                assert (result.windows_hit, int(flags.sum())) == per_series[(k, s.name)], (k, s.name)
            files.append(result)
        assert normalised(sum(f.raw for f in files), 33) == pytest.approx(score, abs=0.01), (k, cooldown)


def test_volume_detector_meets_nab_target(shared_dir: Path) -> None:
    result = nab_eval(shared_dir / "datasets" / "nab")
    assert result.score >= 75.0, result.score
    assert result.hit >= 30
