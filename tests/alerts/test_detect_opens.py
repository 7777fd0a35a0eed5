"""A detection pass opens the database once (issue 18, item 4)."""

from __future__ import annotations

from collections.abc import Callable

from alerts.detect import detect_incidents
from storage import Store
from tests.alerts.conftest import DEMO_NOW, settings_with


def test_detection_pass_opens_the_database_once(store_factory: Callable[[], Store]) -> None:
    """Bug (issue 18): detection opened the database once per rule and scope and once per
    incident; a pass that stores many incidents now opens it once."""
    opened: list[Store] = []

    def counting() -> Store:
        opened.append(store_factory())
        return opened[-1]

    summary = detect_incidents(counting, settings_with({}), now=DEMO_NOW)
    assert summary.opened + summary.updated > 3
    assert len(opened) == 1
