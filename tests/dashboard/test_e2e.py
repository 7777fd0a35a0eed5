"""End to end: the real pipeline's database, `koubei dashboard` (streamlit run) on a
free localhost port, loaded in Debian's headless Chromium through Playwright.

No skip: without /usr/bin/chromium this test fails and says how to install it.
"""

from __future__ import annotations

import io
import re
import shutil
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from koubei.records import Mention
from storage import open_store, upsert_mentions
from storage.incidents import list_incidents
from tests.dashboard.browser import dashboard_server, launch
from tests.dashboard.conftest import DEMO_END, MASKED_PHONE, PHONE, is_seeded_crisis

LIVE_BATCH = 300

PLOT = ".js-plotly-plot .main-svg"


def _incident_trace(page: Page) -> dict[str, object]:
    """The chart's incident marker trace, read from plotly's own figure data in the page."""
    return page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            const trace = gd.data.find(t => Array.isArray(t.customdata));
            return trace ? {clusters: trace.customdata, name: trace.name,
                            shapes: (gd.layout.shapes || []).length} : null;
        }"""
    )


@pytest.mark.browser
def test_dashboard_in_chromium_shows_chart_and_seeded_incident(
    demo_db: Path, artifacts_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "koubei.duckdb"
    shutil.copy(demo_db, db)  # this test writes; the shared demo database stays as built
    config = tmp_path / "koubei.toml"
    config.write_text("[dashboard]\nrefresh_seconds = 5\n", encoding="utf-8")
    with open_store(db, read_only=True) as store:
        crisis = [i for i in list_incidents(store) if is_seeded_crisis(i) and i.status == "open"]
    assert crisis, "the pipeline should have flagged the demo's seeded crisis"

    with dashboard_server(db, tmp_path / "streamlit.log", config=config) as url, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000}, accept_downloads=True)
            page.goto(url + "/", wait_until="domcontentloaded")
            page.wait_for_selector(PLOT, timeout=60_000)
            page.get_by_role("heading", name="口碑总览").wait_for(timeout=30_000)

            # KPI cards with numbers.
            labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
            assert [label.strip() for label in labels] == ["提及量", "平均情感", "负面占比", "未关闭案件"]
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            before = int(values[0].replace(",", ""))
            assert before > 0

            # The chart carries a marker for the seeded incident and shades its window.
            trace = _incident_trace(page)
            assert trace is not None and trace["name"] == "事件"
            clusters: list[list[str]] = trace["clusters"]  # type: ignore[assignment]
            holding = [n for n, ids in enumerate(clusters) if crisis[0].id in ids]
            assert len(crisis) == 1 and len(holding) == 1, (crisis, clusters)
            assert trace["shapes"] >= 1  # type: ignore[operator]
            # (the lines are drawn without points, so the scatter points are the incident markers, in order)
            marker = page.locator(".js-plotly-plot .scatterlayer .point").nth(holding[0])
            marker.hover(force=True)
            page.wait_for_function(  # the hover label (SVG text) names the product
                "name => (document.querySelector('.js-plotly-plot .hoverlayer').textContent || '').includes(name)",
                arg=crisis[0].scope_value,
                timeout=10_000,
            )
            page.wait_for_timeout(1000)  # tables paint on canvas after the chart
            page.screenshot(path=str(artifacts_dir / "dashboard_overview.png"))

            # A click on the marker opens the brief of its lead incident, with the mentions behind it.
            marker.click(force=True)
            page.wait_for_url(re.compile(r"/incidents\?.*incident="), timeout=30_000)
            page.locator(".brief-headline").wait_for(timeout=30_000)
            page.get_by_role("heading", name="引发事件的提及（传播最广的在前）").wait_for(timeout=30_000)
            page.goto(url + "/", wait_until="domcontentloaded")
            page.wait_for_selector(PLOT, timeout=60_000)
            before = int(page.locator('[data-testid="stMetricValue"]').first.inner_text().replace(",", ""))

            # Live refresh while a collector writes: a batch stored now shows up on its own.
            with open_store(db) as store:
                upsert_mentions(
                    store,
                    [
                        Mention(
                            source="live.test",
                            native_id=str(i),
                            text=f"刚刚的评论{i}",
                            brand="声浪",
                            product="声浪X1耳机",
                            published_at=DEMO_END - timedelta(minutes=30),
                        )
                        for i in range(LIVE_BATCH)
                    ],
                )
            first_metric = page.locator('[data-testid="stMetricValue"]').first
            expected = f"{before + LIVE_BATCH:,}"
            page.wait_for_function(
                "expected => document.querySelector('[data-testid=\"stMetricValue\"]').innerText.trim() === expected",
                arg=expected,
                timeout=40_000,
            )
            assert re.sub(r"\s", "", first_metric.inner_text()) == expected

            # The Excel export, as a browser downloads it: text masked, formula text a plain text cell.
            book = openpyxl.load_workbook(io.BytesIO(_download(page, "下载 Excel").read_bytes()))
            assert book.sheetnames == ["摘要", "负面提及", "事件", "说明"]
            cells = [c for row in book["负面提及"].iter_rows() for c in row]
            texts = [str(c.value) for c in cells if isinstance(c.value, str)]
            assert any(MASKED_PHONE in text for text in texts) and not any(PHONE in text for text in texts)
            assert any(text.startswith("=HYPERLINK") for text in texts)
            assert all(c.data_type != "f" for c in cells)

            # English from the sidebar switch.
            page.locator("[data-testid=stSidebar]").get_by_text("English", exact=True).click()
            page.get_by_role("heading", name="Word-of-mouth overview").wait_for(timeout=30_000)
            page.wait_for_selector(PLOT, timeout=30_000)
            page.screenshot(path=str(artifacts_dir / "dashboard_overview_en.png"))
        finally:
            browser.close()


def _download(page: Page, button: str, attempts: int = 4) -> Path:
    """The file a click on `button` downloads. A click that lands while the 5 s live refresh redraws
    the button is lost (a person clicks again; so does this), which failed the fresh-clone CI run once."""
    for _ in range(attempts - 1):
        try:
            return _click_for_download(page, button)
        except PlaywrightTimeoutError:
            continue
    return _click_for_download(page, button)


def _click_for_download(page: Page, button: str) -> Path:
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=30_000)
    with page.expect_download(timeout=20_000) as download:
        page.get_by_role("button", name=button).click()
    return Path(download.value.path())
