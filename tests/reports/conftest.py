"""The demo database the dashboard tests use (the real pipeline: demo collect -> score -> detect,
plus two hostile mentions), and the report built from it for the last four demo days."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.facts import ReportFacts, ReportRequest, Scope, build_facts
from reports.period import parse_period
from tests.dashboard.conftest import dashboard_env, demo_db  # noqa: F401 - the dashboard tests' fixtures

BRAND = "声浪"
PERIOD = "2026-11-17..2026-11-20"  # the demo's last four days, with its crisis; the four before it compare


def request(lang: str = "zh", **scope: tuple[str, ...]) -> ReportRequest:
    return ReportRequest(parse_period(PERIOD), Scope(**({"brands": (BRAND,)} | scope)), lang)


@pytest.fixture(scope="session")
def facts(demo_db: Path) -> ReportFacts:  # noqa: F811 - the fixture imported above
    return build_facts(demo_db, request())


@pytest.fixture(scope="session")
def hostile_facts(demo_db: Path) -> ReportFacts:  # noqa: F811
    """The report over the imported file alone: its two hostile mentions are the examples."""
    return build_facts(demo_db, request(sources=("import.csv",)))
