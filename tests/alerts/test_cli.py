"""The commands: detect --series (the detection contract), incidents lifecycle, backtest, eval."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from alerts.detect import detect_incidents
from koubei.cli import app
from storage import incidents as inc
from storage import open_store
from tests.alerts.conftest import DEMO_NOW, settings_with

runner = CliRunner()


def _write_volume_csv(path: Path, spike_at: int | None) -> None:
    rng = np.random.default_rng(5)
    start = datetime(2026, 1, 1)
    n = 12 * 24 * 10  # ten days of 5-minute buckets
    hours = (np.arange(n) // 12) % 24
    values = rng.poisson(30 + 20 * np.sin(hours / 24 * 2 * np.pi))
    if spike_at is not None:
        values[spike_at : spike_at + 6] += 400
    lines = ["timestamp,value"] + [
        f"{start + timedelta(minutes=5 * i):%Y-%m-%d %H:%M:%S},{v}" for i, v in enumerate(values)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_detect_series_volume_json(tmp_path: Path) -> None:
    path = tmp_path / "volume.csv"
    spike = 12 * 24 * 8 + 100
    _write_volume_csv(path, spike)
    result = runner.invoke(app, ["detect", "--series", str(path), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert len(found) == 1
    item = found[0]
    assert set(item) >= {"start", "end", "peak", "kind", "score", "severity"}
    assert item["kind"] == "volume" and item["severity"] >= 3 and item["score"] > 5
    expected_start = datetime(2026, 1, 1) + timedelta(minutes=5 * spike)
    assert item["start"] == expected_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    # No spike, no incident.
    _write_volume_csv(path, None)
    assert json.loads(runner.invoke(app, ["detect", "--series", str(path), "--json"]).stdout) == []


def test_detect_series_negative_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    n = 24 * 21
    totals = rng.poisson(50, n)
    negatives = rng.binomial(totals, 0.1)
    totals[n - 30] += 80
    negatives[n - 30] += 80
    start = datetime(2026, 3, 1)
    rows = ["timestamp,total,negative"] + [
        f"{(start + timedelta(hours=i)).isoformat()},{t},{k}" for i, (t, k) in enumerate(zip(totals, negatives))
    ]
    path = tmp_path / "neg.csv"
    path.write_text("\n".join(rows))
    found = json.loads(runner.invoke(app, ["detect", "--series", str(path), "--json"]).stdout)
    assert [f["kind"] for f in found] == ["negative"]
    assert found[0]["start"] == (start + timedelta(hours=n - 30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert found[0]["severity"] >= 4


def test_detect_series_bad_file_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,value\n2026-01-01 00:00,3\n2026-01-01 00:05,lots\n")
    result = runner.invoke(app, ["detect", "--series", str(path), "--json"])
    assert result.exit_code != 0
    assert "row 3" in str(result.exception) and "column value" in str(result.exception)
    path.write_text("when,count\n1,2\n")
    result = runner.invoke(app, ["detect", "--series", str(path)])
    assert "timestamp,value" in str(result.exception)


def test_incident_lifecycle_and_time_to_first_response(demo_db: Path) -> None:
    factory = partial(open_store, demo_db)
    detect_incidents(factory, settings_with({}), now=DEMO_NOW)
    with factory() as store:
        crisis = next(
            r
            for r in inc.list_incidents(store)
            if r.scope_type == "brand" and r.brand == "声浪" and r.kind == "negative"
        )
    db = ["--db", str(demo_db)]
    listed = runner.invoke(app, [*db, "incidents", "list", "--status", "open", "--json"])
    open_ids = [r["id"] for r in json.loads(listed.stdout)]
    assert crisis.id in open_ids
    # --cases: the brand incident is in the same case as the product, aspect and channel ones
    cases = json.loads(runner.invoke(app, [*db, "incidents", "list", "--status", "open", "--cases", "--json"]).stdout)
    assert sorted(i for c in cases for i in [c["id"], *c["related"]]) == sorted(open_ids)
    (holding,) = [c for c in cases if crisis.id in [c["id"], *c["related"]]]
    assert holding["related"] and holding["lead"]["severity"] == holding["severity"]
    table = runner.invoke(app, [*db, "incidents", "list", "--status", "open", "--cases"])
    assert table.exit_code == 0 and f"{len(cases)} cases, {len(open_ids)} incidents" in table.stdout
    # a mistyped status is an error that names the valid ones, not an empty queue
    typo = runner.invoke(app, [*db, "incidents", "list", "--status", "opne"])
    assert typo.exit_code == 2 and "open, acknowledged, resolved" in typo.output
    assert runner.invoke(app, [*db, "incidents", "ack", crisis.id, "--by", "小王"]).exit_code == 0
    assert (
        runner.invoke(app, [*db, "incidents", "respond", crisis.id, "--note", "微博已公开致歉并提供换新"]).exit_code
        == 0
    )
    with factory() as store:
        row = inc.get_incident(store, crisis.id)
        log = inc.responses(store, crisis.id)
    assert row is not None and row.status == "acknowledged" and row.acknowledged_at is not None
    assert row.first_response_at == row.acknowledged_at
    assert [e.action for e in log] == ["acknowledge", "respond"] and log[0].actor == "小王"
    shown = runner.invoke(app, [*db, "incidents", "show", crisis.id])
    assert "微博已公开致歉" in shown.stdout and "keywords:" in shown.stdout
    assert runner.invoke(app, [*db, "incidents", "resolve", crisis.id]).exit_code == 0
    with factory() as store:
        assert getattr(inc.get_incident(store, crisis.id), "status", None) == "resolved"
    # A resolved incident is not reopened or re-alerted by re-running detection over the same data.
    summary = detect_incidents(factory, settings_with({}), now=DEMO_NOW)
    with factory() as store:
        assert getattr(inc.get_incident(store, crisis.id), "status", None) == "resolved"
    assert crisis.id not in summary.incident_ids
    unknown = runner.invoke(app, [*db, "incidents", "ack", "nope"])
    assert unknown.exit_code != 0 and "no incident nope" in str(unknown.exception)


def test_backtest_shows_when_a_rule_would_have_fired(demo_db: Path) -> None:
    result = runner.invoke(
        app,
        [
            "--db",
            str(demo_db),
            "backtest",
            "--rule",
            "negative-spike",
            "--since",
            "2026-11-10",
            "--until",
            "2026-11-23T12:00",
            "--scope",
            "brand",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    firings = json.loads(result.stdout)
    crisis = [f for f in firings if f["brand"] == "声浪"]
    assert crisis and crisis[0]["start"].startswith("2026-11-21")
    # A stricter threshold fires less: the backtest is what tuning is judged by.
    from alerts.backtest import backtest

    loose, strict = (
        backtest(
            lambda: open_store(demo_db),
            settings_with({}),
            "negative-spike",
            datetime(2026, 11, 10),
            DEMO_NOW,
            "source",
            overrides=overrides,
        )
        for overrides in ({"z_min": 3.0, "min_factor": 1.5}, {"z_min": 8.0})
    )
    assert len(strict.firings) < len(loose.firings)
    # Nothing was written.
    with open_store(demo_db) as store:
        assert inc.list_incidents(store) == []
    bad = runner.invoke(app, ["--db", str(demo_db), "backtest", "--rule", "nope", "--since", "2026-11-10"])
    assert bad.exit_code != 0 and "no rule named" in str(bad.exception)


def test_eval_spikes_prints_targets(shared_dir: Path) -> None:
    result = runner.invoke(
        app, ["eval", "spikes", "--nab-dir", str(shared_dir / "datasets" / "nab"), "--streams", "30"]
    )
    assert result.exit_code == 0, result.output
    assert "NAB score" in result.stdout and "(target >= 75: met)" in result.stdout
    assert "recall" in result.stdout and "MISSED" not in result.stdout


def test_detect_series_is_what_the_nab_evaluation_scores(shared_dir: Path, tmp_path: Path) -> None:
    """The CLI contract and `eval spikes` agree: the starts printed for a NAB file score the same."""
    import pandas as pd

    from evaluation.nab import load_realtweets, score_file
    from evaluation.spikes import nab_eval

    nab_dir = shared_dir / "datasets" / "nab"
    series = next(s for s in load_realtweets(nab_dir) if s.name == "AAPL")
    result = runner.invoke(
        app, ["detect", "--series", str(nab_dir / "realTweets" / "Twitter_volume_AAPL.csv"), "--json"]
    )
    assert result.exit_code == 0, result.output
    stamps = pd.to_datetime(pd.Series(series.timestamps)).dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
    index = {stamp: i for i, stamp in enumerate(stamps)}
    flags = np.array([index[item["start"]] for item in json.loads(result.stdout)], dtype=int)
    from_cli = score_file("AAPL", len(series.values), flags, series.windows).raw
    from_eval = next(f for f in nab_eval(nab_dir).files if f.name == "AAPL").raw
    assert from_cli == pytest.approx(from_eval)
