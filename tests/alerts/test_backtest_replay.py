"""The backtest replays what the live pipeline does: the same merging of a burst's onsets and
the same tiers, so a backtest over a crisis lists what live detection raised for it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alerts.backtest import backtest
from alerts.detect import detect_incidents
from storage import incidents as inc
from storage import open_store
from tests.alerts.conftest import DEMO_NOW, settings_with


def test_a_backtest_lists_the_incidents_live_detection_raised(demo_db: Path) -> None:
    """Bug: the backtest split the demo's power-bank crisis at 13:00 and reported it as tier 4
    with many firings, where live detection raised one tier-5 incident: the replay did not
    merge onsets within merge_gap nor apply the red-alert tier."""
    settings = settings_with({})
    detect_incidents(lambda: open_store(demo_db), settings, now=DEMO_NOW)
    with open_store(demo_db, read_only=True) as store:
        live = [i for i in inc.list_incidents(store, limit=500) if i.kind == "negative" and i.scope_type == "product"]
    assert live, "the demo's crisis should raise a product incident"
    replay = backtest(
        lambda: open_store(demo_db, read_only=True),
        settings,
        "negative-spike",
        DEMO_NOW - timedelta(days=7),
        until=DEMO_NOW,
        scope_type="product",
    )
    found = sorted((f.scope_value, f.start, f.severity) for f in replay.firings)
    assert found == sorted((i.scope_value, i.window_start, i.severity) for i in live)
    assert max(severity for _, _, severity in found) == 5
