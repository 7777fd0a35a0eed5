"""The HTML report opened from disk in headless Chromium: charts drawn, nothing fetched from
anywhere, a hostile mention shown as text (screenshot in tests/artifacts/report-html.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reports.build import write_report
from reports.facts import ReportFacts
from tests.dashboard.browser import launch

pytestmark = pytest.mark.browser


def _open(path: Path, shot: Path | None = None) -> tuple[str, list[str], list[str], int]:
    """(page text, requests other than the file, dialogs opened, plotly SVG count)."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            page.on("request", lambda r: None if r.url == path.as_uri() else requests.append(r.url))

            def dismiss(dialog: Any) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", dismiss)
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
            page.wait_for_timeout(500)
            svgs = page.locator(".js-plotly-plot .main-svg").count()
            bars = page.locator("#chart-trend .bars .point path").count()
            assert bars > 0, "the trend chart drew no bars"
            if shot is not None:
                page.screenshot(path=str(shot), full_page=True)
            return page.inner_text("body"), requests, dialogs, svgs
        finally:
            browser.close()


def test_the_report_renders_with_its_charts_and_fetches_nothing(
    facts: ReportFacts, artifacts_dir: Path, tmp_path: Path
) -> None:
    html = write_report(facts, "html", tmp_path / "report.html")
    text, requests, dialogs, svgs = _open(html, artifacts_dir / "report-html.png")
    assert requests == [] and dialogs == []
    assert svgs >= 4  # two charts, each an SVG layer and its overlay
    assert facts.request.period.label() in text


def test_a_hostile_mention_shows_as_text_and_runs_nothing(hostile_facts: ReportFacts, tmp_path: Path) -> None:
    html = write_report(hostile_facts, "html", tmp_path / "hostile.html")
    text, requests, dialogs, _ = _open(html)
    assert "<img src=x onerror=alert(1)>" in text and "![x](http://evil.example/p.png)" in text
    assert requests == [] and dialogs == []
