"""The overview's daily chart drawn by plotly.js in Debian's headless Chromium, at the size the page
draws it: every case marker's "×n" label lies inside the volume plot's area.

Bug: the label sat above its marker ("top center"), and for the upper of the two stacked rows of
markers above the plot area, where plotly clips it: the "×n" of a case was cut off at the figure's top.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page

from alerts.cases import Case, group_cases
from dashboard.charts import timeseries_figure
from storage.incidents import Incident
from tests.dashboard.test_helpers import _incident

pytestmark = pytest.mark.browser
WIDTH = 1000  # about the overview's main column at the benchmark's 1400 px viewport


def cases_at(*peaks: str) -> list[Case[Incident]]:
    """One case of two related incidents (a brand's and its product's) peaking at each local time."""
    incidents, drivers = [], {}
    for n, peak in enumerate(peaks):
        at = datetime.fromisoformat(peak) - timedelta(hours=8)  # stored in UTC, drawn in Beijing time
        start, end = (at - timedelta(hours=2)).isoformat(), (at + timedelta(hours=2)).isoformat()
        for scope in ("brand", "product"):
            incident = replace(
                _incident(scope, f"品牌{n}{scope}", 3, start, end, at.isoformat(), 30.0), brand=f"品牌{n}"
            )
            incidents.append(replace(incident, id=f"{scope}-{n}"))
            drivers[f"{scope}-{n}"] = frozenset({("demo.jd", str(n))})
    return group_cases(incidents, drivers)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTH + 100, "height": 700})
    yield context.new_page()
    context.close()


def test_every_case_label_is_inside_the_plot_area(page: Page) -> None:
    hours = pd.date_range("2026-11-06", "2026-11-19 23:00", freq="h")
    series = pd.DataFrame(
        {
            "bucket": hours,
            "mentions": [10 + (i * 7) % 13 for i in range(len(hours))],
            "scored": 10,
            "avg_score": 0.5,
            "negative_share": 0.2,
        }
    )
    series.loc[200, "mentions"] = 120  # the spike sets the axis' top
    # Close enough to stack in two rows, one at each end of the chart (its label must stay inside too), one at the spike.
    peaks = ("2026-11-06 01:00", "2026-11-10 04:00", "2026-11-10 09:00", "2026-11-14 08:00", "2026-11-19 22:00")
    cases = cases_at(*peaks)
    fig = timeseries_figure(series, cases, "Asia/Shanghai")
    assert len(fig.data[-1].text) == len(peaks) and all(label == "×2" for label in fig.data[-1].text)
    page.set_content(fig.to_html(include_plotlyjs=True, full_html=True, default_width=f"{WIDTH}px"))
    page.wait_for_selector(".textpoint text")
    area = page.locator(".draglayer .xy .nsewdrag").first.bounding_box()
    assert area is not None
    labels = page.locator(".textpoint text").all()
    assert len(labels) == len(peaks)
    for label in labels:
        box = label.bounding_box()
        assert box is not None
        inside = (
            box["y"] >= area["y"]
            and box["y"] + box["height"] <= area["y"] + area["height"]
            and box["x"] >= area["x"]
            and box["x"] + box["width"] <= area["x"] + area["width"]
        )
        assert inside, f"{label.text_content()} at {box} outside the plot area {area}"
