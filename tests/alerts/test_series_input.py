"""`koubei detect --series` on series that used to eat the machine or mislead it (issue 17, item 11)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from alerts.series_io import MAX_BUCKETS, read_series
from koubei.cli import app

runner = CliRunner()
START = datetime(2026, 1, 1, tzinfo=UTC)


def _csv(path: Path, rows: Sequence[tuple[object, object]]) -> Path:
    path.write_text("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return path


def _hourly(n: int, spike_at: int) -> list[tuple[datetime, int]]:
    values = np.random.default_rng(3).poisson(30, n)
    values[spike_at : spike_at + 3] += 300
    return [(START + timedelta(hours=i), int(v)) for i, v in enumerate(values)]


def _detect(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["detect", "--series", str(path), "--json"])
    return result.exit_code, result.stdout if result.exit_code == 0 else str(result.exception)


def test_a_few_rows_far_apart_make_a_coarse_grid(tmp_path: Path) -> None:
    """Bug: 4 rows spanning 11 months, two of them a second apart, made a 1-second grid of
    28 million buckets (2.7 GB). The step is the most common one only in a regular series."""
    times = [START, START + timedelta(seconds=1), START + timedelta(days=150), START + timedelta(days=335)]
    path = _csv(tmp_path / "sparse.csv", [(t.isoformat(), 5) for t in times])
    stamps, columns, bucket = read_series(path)
    assert bucket == 7 * 86400 and len(stamps) == len(columns["value"]) <= 50
    assert columns["value"].sum() == 20  # every row counted
    assert _detect(path)[0] == 0


def test_a_stray_far_future_row_is_a_clear_error(tmp_path: Path) -> None:
    """Bug: one row in year 2200 in a minute-by-minute series tried to allocate 54 GiB."""
    rows = [((START + timedelta(minutes=i)).isoformat(), 3) for i in range(200)]
    rows.insert(57, ("2200-01-01T00:00:00Z", 3))
    code, message = _detect(_csv(tmp_path / "future.csv", rows))
    assert code != 0
    assert "to 59 (2200-01-01T00:00:00Z)" in message and f"more than {MAX_BUCKETS:,}" in message


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e308", "-3"])
def test_values_that_are_not_counts_name_row_and_column(tmp_path: Path, value: str) -> None:
    """Bug: a value of inf or 1e308 silently returned no spikes."""
    rows: list[tuple[object, object]] = [(t.isoformat(), v) for t, v in _hourly(48, 40)]
    rows[30] = (rows[30][0], value)
    code, message = _detect(_csv(tmp_path / "values.csv", rows))
    assert code != 0 and "row 32, column value: not a count" in message


@pytest.mark.parametrize("unit", [1, 1000])
def test_unix_times_read_as_seconds_or_milliseconds(tmp_path: Path, unit: int) -> None:
    """Bug: integer epochs were read as nanoseconds: "all rows have the same timestamp"."""
    hourly = _hourly(24 * 14, 24 * 12)
    as_text = _detect(_csv(tmp_path / "iso.csv", [(t.isoformat(), v) for t, v in hourly]))
    as_epochs = _detect(_csv(tmp_path / "epochs.csv", [(int(t.timestamp()) * unit, v) for t, v in hourly]))
    assert as_epochs == as_text and as_text[0] == 0
    assert [found["start"] for found in json.loads(as_text[1])] == [
        (START + timedelta(hours=24 * 12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ]


def test_a_time_out_of_range_or_a_boolean_is_not_a_time(tmp_path: Path) -> None:
    code, message = _detect(_csv(tmp_path / "big.csv", [(1_700_000_000, 1), (1e30, 2)]))
    assert code != 0 and "row 3, column timestamp: not a time" in message
    code, message = _detect(_csv(tmp_path / "bool.csv", [(True, 1), (False, 2)]))
    assert code != 0 and "row 2, column timestamp: not a time" in message
