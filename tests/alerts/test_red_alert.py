"""A negative burst carrying tier-5 complaints (burns, lawyers, journalists, 12315) is a red alert.

Uses the real sentiment pipeline, so the tier-5 mentions are the triage's own verdicts. Scoring
reads [sentiment], never [alerts]: the demo store is scored once per run (scored_template) and each
test detects on a copy with its own [alerts] (scoring it per test cost each test as much again).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from alerts.detect import detect_incidents
from sentiment.pipeline import score_pending
from storage import Store, open_store
from storage import incidents as inc
from storage.incidents import Incident
from tests.alerts.conftest import DEMO_NOW, settings_with
from tests.conftest import built_once


@pytest.fixture(scope="session")
def scored_template(demo_template: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The alerts' demo store scored by the real pipeline, once per run (built_once)."""

    def build(folder: Path) -> None:
        path = folder / "scored.duckdb"
        shutil.copy(demo_template, path)
        score_pending(lambda: open_store(path), settings_with({}))

    return built_once(tmp_path_factory, worker_id, "alerts-demo-scored", build) / "scored.duckdb"


@pytest.fixture
def store_factory(scored_template: Path, tmp_path: Path) -> Callable[[], Store]:
    """A copy of the scored demo store: detection writes incidents."""
    path = tmp_path / "scored.duckdb"
    shutil.copy(scored_template, path)
    return lambda: open_store(path)


def _brand_incidents(store_factory: Callable[[], Store], severity: dict) -> dict[str | None, Incident]:
    settings = settings_with({"severity": severity})
    detect_incidents(store_factory, settings, now=DEMO_NOW)
    with store_factory() as store:
        return {r.brand: r for r in inc.list_incidents(store) if r.kind == "negative" and r.scope_type == "brand"}


def test_safety_crisis_is_tier_5_and_says_why(store_factory: Callable[[], Store]) -> None:
    incidents = _brand_incidents(store_factory, {})
    crisis, delay = incidents["声浪"], incidents["鲜到家"]
    assert crisis.severity == 5
    assert "triaged tier 5" in str(crisis.note)
    # Late deliveries hurt, but nobody is burnt or suing: not a red alert.
    assert delay.severity < 5


def test_red_alert_threshold_is_configurable(store_factory: Callable[[], Store]) -> None:
    incidents = _brand_incidents(store_factory, {"red_alert_mentions": 1_000_000})
    assert incidents["声浪"].severity < 5
    assert "tier 5" not in (incidents["声浪"].note or "")
