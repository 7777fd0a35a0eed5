"""A negative burst carrying tier-5 complaints (burns, lawyers, journalists, 12315) is a red alert.

Uses the real sentiment pipeline, so the tier-5 mentions are the triage's own verdicts.
"""

from __future__ import annotations

from collections.abc import Callable

from alerts.detect import detect_incidents
from sentiment.pipeline import score_pending
from storage import Store
from storage import incidents as inc
from storage.incidents import Incident
from tests.alerts.conftest import DEMO_NOW, settings_with


def _brand_incidents(store_factory: Callable[[], Store], severity: dict) -> dict[str | None, Incident]:
    settings = settings_with({"severity": severity})
    score_pending(store_factory, settings)
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
