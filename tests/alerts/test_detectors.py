"""Detectors on small series made here: rhythm, low counts, campaigns, outages, streaming."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.detectors import NegativeParams, VolumeParams, negative_scores, onsets, volume_scores
from alerts.events import detect_negative, detect_volume, severity
from evaluation.synthetic import evaluate, make_stream

PER_DAY = 24


def _daily(days: int, peak: float, rng: np.random.Generator) -> np.ndarray:
    hours = np.arange(days * PER_DAY) % PER_DAY
    rate = peak * (0.1 + 0.9 * np.clip(np.sin((hours - 6) / 24 * 2 * np.pi), 0, None))
    return rng.poisson(rate).astype(float)


def test_onsets_one_per_burst() -> None:
    alarm = np.zeros((1, 50), dtype=bool)
    alarm[0, [5, 6, 7, 9, 30]] = True
    assert np.flatnonzero(onsets(alarm, 10)[0]).tolist() == [5, 30]


def test_daily_rhythm_is_expected_and_a_burst_is_not() -> None:
    rng = np.random.default_rng(1)
    x = _daily(21, 40, rng)
    p = VolumeParams(smooth=1, cooldown=24, scale_halflife=168, tail_halflife=168, transform="sqrt", scale_floor=0.5)
    assert detect_volume(x[None, :], PER_DAY, p) == []  # evening peaks every day are no spike
    x[18 * PER_DAY + 3] += 150  # 150 extra mentions at 3 a.m.
    events = detect_volume(x[None, :], PER_DAY, p)
    assert [e.start for e in events] == [18 * PER_DAY + 3]


def _negatives(days: int = 21, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    totals = _daily(days, 60, rng)
    negatives = rng.binomial(totals.astype(int), 0.1).astype(float)
    return totals, negatives


HOURLY = NegativeParams(share_halflife=168, cooldown=12)


def test_quiet_night_few_negatives_are_noise_and_a_crisis_is_not() -> None:
    totals, negatives = _negatives()
    night = 15 * PER_DAY + 3
    negatives[night] += 5  # 2 to 6 negatives at night: noise
    totals[night] += 5
    assert detect_negative(negatives[None, :], totals[None, :], HOURLY) == []
    crisis = 18 * PER_DAY + 3
    negatives[crisis] += 40  # 20 to 200: a crisis
    totals[crisis] += 40
    events = detect_negative(negatives[None, :], totals[None, :], HOURLY)
    assert [e.start for e in events] == [crisis]
    assert events[0].severity >= 3


def test_campaign_lifts_volume_not_negative_share() -> None:
    totals, negatives = _negatives()
    rng = np.random.default_rng(3)
    span = slice(17 * PER_DAY + 10, 17 * PER_DAY + 20)
    extra = rng.poisson(150, size=10).astype(float)
    totals[span] += extra
    negatives[span] += rng.binomial(extra.astype(int), 0.05)  # mostly positive posts
    assert detect_negative(negatives[None, :], totals[None, :], HOURLY) == []
    vol = VolumeParams(smooth=1, cooldown=24, scale_halflife=168, tail_halflife=168, transform="sqrt", scale_floor=0.5)
    assert len(detect_volume(totals[None, :], PER_DAY, vol)) == 1  # it is a volume spike, rightly


def test_outage_and_backfill_marked_unreliable_do_not_alarm() -> None:
    totals, negatives = _negatives()
    start, end = 16 * PER_DAY + 8, 16 * PER_DAY + 14
    lost_t, lost_n = totals[start:end].sum(), negatives[start:end].sum()
    totals[start:end] = 0
    negatives[start:end] = 0
    totals[end] += lost_t  # the backfill lands at once
    negatives[end] += lost_n
    valid = np.ones_like(totals, dtype=bool)
    valid[start : end + 1] = False
    vol = VolumeParams(smooth=1, cooldown=24, scale_halflife=168, tail_halflife=168, transform="sqrt", scale_floor=0.5)
    assert detect_volume(totals[None, :], PER_DAY, vol, valid[None, :]) == []
    assert detect_negative(negatives[None, :], totals[None, :], HOURLY, valid[None, :]) == []
    # Without the collection-aware mask the backfill would look like a spike.
    assert detect_volume(totals[None, :], PER_DAY, vol) != []


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_streaming_cut_short_gives_same_incidents_before_the_cut(seed: int) -> None:
    rng = np.random.default_rng(seed)
    stream = make_stream(rng)
    full_neg = detect_negative(stream.negatives[None, :], stream.totals[None, :], valid=stream.valid[None, :])
    full_vol = detect_volume(stream.totals[None, :], 96, VolumeParams(), stream.valid[None, :])
    assert full_neg, "the stream has injected spikes"
    n = stream.totals.size
    compared = 0
    for cut in (n // 2, 2 * n // 3, n - 5):
        part_neg = detect_negative(
            stream.negatives[None, :cut], stream.totals[None, :cut], valid=stream.valid[None, :cut]
        )
        part_vol = detect_volume(stream.totals[None, :cut], 96, VolumeParams(), stream.valid[None, :cut])
        for full, part in ((full_neg, part_neg), (full_vol, part_vol)):
            before = [e for e in full if e.start < cut]
            assert [e.start for e in part] == [e.start for e in before]
            # Events that ended before the cut are the same in every fact (floats to single
            # precision: vectorised log/exp may round the last bit differently by position).
            for i, e in enumerate(before):
                next_start = before[i + 1].start if i + 1 < len(before) else cut
                if e.end >= cut - 1 or e.end >= next_start:
                    continue
                p = next(q for q in part if q.start == e.start)
                assert (p.kind, p.end, p.peak, p.severity) == (e.kind, e.end, e.peak, e.severity)
                assert p.observed == pytest.approx(e.observed, rel=1e-5)
                assert p.expected == pytest.approx(e.expected, rel=1e-5, abs=1e-4)
                assert p.score == pytest.approx(e.score, rel=1e-4, abs=1e-4)
                compared += 1
    assert compared > 0


def test_scores_are_causal_bucket_by_bucket() -> None:
    totals, negatives = _negatives()
    full = negative_scores(negatives[None, :], totals[None, :], HOURLY)
    cut = 300
    part = negative_scores(negatives[None, :cut], totals[None, :cut], HOURLY)
    np.testing.assert_allclose(full.z[:, :cut], part.z, rtol=1e-5, atol=1e-5)
    vfull = volume_scores(totals[None, :], PER_DAY)
    vpart = volume_scores(totals[None, :cut], PER_DAY)
    np.testing.assert_allclose(vfull.z[:, :cut], vpart.z, rtol=1e-5, atol=1e-5)


def test_severity_tiers() -> None:
    assert severity("negative", 10, 4) == 2
    assert severity("negative", 40, 10) == 3
    assert severity("negative", 90, 20) == 4
    assert severity("negative", 400, 20) == 5


def test_synthetic_evaluation_meets_targets() -> None:
    result = evaluate(n_streams=40, seed=7)
    assert result.spikes == 120
    assert result.recall >= 0.95, result
    assert result.precision >= 0.95, result
    assert result.median_delay <= 2
    assert "campaign" not in result.false_by_decoy and "outage+backfill" not in result.false_by_decoy
