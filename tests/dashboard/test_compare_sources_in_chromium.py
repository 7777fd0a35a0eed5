"""Issue 13's views in Debian's headless Chromium, zh and en: the overview's competitor comparison
drawn from the demo with its competitors, and a failing source on the sources page.

The database is the shared demo database plus the demo's competitors (律动 of 声浪, 邻鲜 of
鲜到家), collected, scored and detected by the real pipeline, and a weibo source whose last run
was refused (HTTP 403, as collectors/http.py reports it); the dashboard reads a koubei.toml that
marks the competitors and configures the weibo source.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page

from collectors.demo.stream import RIVALS
from dashboard.data import CACHE_TTL
from koubei.config import parse_settings
from koubei.settings.toml import to_toml
from storage import Store, open_store
from storage.health import record_run
from tests.conftest import built_once
from tests.dashboard.browser import dashboard_server
from tests.dashboard.conftest import DEMO_END, DEMO_OPTIONS, demo_settings

pytestmark = pytest.mark.browser
MAIN = "[data-testid=stMainBlockContainer]"
PLOT = ".js-plotly-plot .main-svg"


WEIBO_403 = (
    "weibo: HTTP 403 from https://m.weibo.cn/api/container/getIndex?containerid=***: the site refused us"
    " (check cookie/Referer config, rate and terms)"
)


def rivals_settings() -> dict[str, Any]:
    """The demo's settings with its competitors as koubei.toml would list them, and a weibo source."""
    raw: dict[str, Any] = {
        "brands": [dict(b) for b in demo_settings().effective()["brands"]],
        "sources": {
            "demo": dict(DEMO_OPTIONS),
            "weibo": {"keywords": ["声浪"], "cookie_env": "KOUBEI_WEIBO_COOKIE", "interval": "15m"},
        },
    }
    raw["brands"] += [
        {"name": r["name"], "keywords": [r["name"]], "products": r["products"], "competitor_of": r["competitor_of"]}
        for r in RIVALS
    ]
    return raw


def build_compare_db(demo_db: Path, folder: Path) -> Path:
    """A copy of the demo database with the competitors' stream added (a source instance of its own,
    so its cursor starts afresh; the demo brands' mentions it regenerates are merged unchanged)."""
    from alerts.detect import detect_incidents
    from collectors.options import parse_source
    from collectors.runner import run_collector
    from collectors.sources.demo import DemoCollector
    from sentiment.pipeline import score_pending

    db = folder / "koubei.duckdb"
    shutil.copy(demo_db, db)
    settings = parse_settings(rivals_settings())

    def opener() -> Any:
        return open_store(db)

    table = {**DEMO_OPTIONS, "kind": "demo", "competitors": True}
    result = run_collector(DemoCollector(parse_source("demo-rivals", table)), opener)
    assert result.ok and result.inserted > 0, result.error
    score_pending(opener, settings)
    detect_incidents(opener, settings, now=DEMO_END.astimezone(UTC))
    with opener() as store:
        fail_weibo(store)
    return db


def fail_weibo(store: Store) -> None:
    """Three good runs of the weibo source an hour apart, then two refused ones."""
    start = DEMO_END.astimezone(UTC).replace(tzinfo=None) - timedelta(hours=5)
    for n, items in enumerate([40, 35, 38, 0, 0]):
        began = start + timedelta(hours=n)
        error = WEIBO_403 if n >= 3 else None
        kind = "blocked" if error else None
        record_run(store, "weibo", began, began + timedelta(seconds=20), pages=2, inserted=items, updated=0,
                   unchanged=0, error=error, error_kind=kind)  # fmt: skip


@pytest.fixture(scope="module")
def compare_db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Built once per test run: the xdist workers share it (tests/conftest.py built_once)."""
    return built_once(tmp_path_factory, worker_id, "compare", lambda f: build_compare_db(demo_db, f)) / "koubei.duckdb"


@pytest.fixture(scope="module")
def server(compare_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("compare-server")
    config = folder / "koubei.toml"
    # A refresh far off: a timed rerun of the overview must not land inside a test that watches its reruns.
    config.write_text(to_toml({**rivals_settings(), "dashboard": {"refresh_seconds": 600}}), encoding="utf-8")
    with dashboard_server(compare_db, folder / "streamlit.log", config=config) as url:
        yield url


def settled(page: Page) -> None:
    page.wait_for_timeout(800)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)


def svg_texts(chart: Locator, selector: str) -> list[str]:
    """Texts of a plotly chart's SVG elements (inner_text does not read SVG)."""
    return chart.locator(selector).evaluate_all("nodes => nodes.map(n => n.textContent)")


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 4200})
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(f"{MAIN} h1", timeout=60_000)
    page.wait_for_selector(PLOT, timeout=60_000)
    settled(page)
    return page


@pytest.mark.parametrize(
    ("lang", "title", "axis"), [("zh", "竞品对比", "声量份额"), ("en", "Competitor comparison", "Share of voice")]
)
def test_the_overview_compares_a_brand_with_its_competitor(
    server: str, browser: Browser, artifacts_dir: Path, lang: str, title: str, axis: str
) -> None:
    """The comparison is drawn for the filtered brand: both brands in the legends of the time
    chart and of the per-channel chart, the three measures' axes, and incident markers."""
    page = open_page(browser, f"{server}/?lang={lang}&brand=声浪")
    try:
        section = page.locator(f"{MAIN} [data-testid=stHeading]", has_text=title)
        section.wait_for(timeout=60_000)
        charts = page.locator(f"{MAIN} .js-plotly-plot")
        charts.nth(2).wait_for(timeout=60_000)  # the overview's own, the comparison, per channel
        comparison, by_channel = charts.nth(1), charts.nth(2)
        comparison.scroll_into_view_if_needed()
        legend = svg_texts(comparison, ".legendtext")
        assert "声浪" in legend and "律动" in legend and "鲜到家" not in legend
        assert set(svg_texts(by_channel, ".legendtext")) >= {"声浪", "律动"}
        assert axis in svg_texts(comparison, ".g-ytitle")
        assert comparison.locator(".scatterlayer .trace .point").count() >= 2, "each brand's incidents marked"
        page.screenshot(path=str(artifacts_dir / f"compare_{lang}.png"))
    finally:
        page.close()


def test_picking_another_brand_to_compare_reruns_the_comparison_only(server: str, browser: Browser) -> None:
    """Bug: the comparison's select box sat in the overview's live fragment, so picking another brand
    to compare reran the whole overview (every read of the page: KPIs, trend, tables, export counts)
    to redraw one section: 56 s at 1M mentions against 3 s for the bare page's filter change."""
    page = open_page(browser, f"{server}/?lang=en")
    try:
        caption = page.locator(MAIN).get_by_text("Data as of")
        loaded = caption.inner_text()
        page.wait_for_timeout((CACHE_TTL + 1.5) * 1000)  # the overview's cache expired: its rerun would say so
        page.locator(f"{MAIN} [data-testid=stSelectbox]").first.click()
        page.get_by_role("option", name="鲜到家", exact=True).click()
        comparison = page.locator(f"{MAIN} .js-plotly-plot").nth(1)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.js-plotly-plot .legendtext')].some(e => e.textContent === '邻鲜')",
            timeout=60_000,
        )
        settled(page)
        assert "邻鲜" in svg_texts(comparison, ".legendtext")
        assert caption.inner_text() == loaded
    finally:
        page.close()


@pytest.mark.parametrize(
    ("lang", "failing", "advice", "metric"),
    [
        ("zh", "采集失败（被拒绝）", "登录 Cookie 过期", "出错"),
        ("en", "is failing (blocked)", "login cookie expired", "Failing"),
    ],
)
def test_a_failing_source_is_visible_on_the_sources_page(
    server: str, browser: Browser, artifacts_dir: Path, lang: str, failing: str, advice: str, metric: str
) -> None:
    """The refused weibo source is listed as failing with what to do (a 403: renew the cookie),
    the message itself, and its runs drawn."""
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    try:
        page.goto(f"{server}/sources?lang={lang}", wait_until="domcontentloaded")
        page.wait_for_selector(f"{MAIN} [data-testid=stAlertContentError]", timeout=60_000)
        page.wait_for_selector(PLOT, timeout=60_000)
        settled(page)
        alert = page.locator(f"{MAIN} [data-testid=stAlertContentError]").inner_text()
        assert "weibo" in alert and failing in alert and "2" in alert
        text = page.locator(MAIN).inner_text()
        assert advice in text and "HTTP 403 from https://m.weibo.cn" in text
        labels = page.locator(f"{MAIN} [data-testid=stMetricLabel]").all_inner_texts()
        values = page.locator(f"{MAIN} [data-testid=stMetricValue]").all_inner_texts()
        assert dict(zip((x.strip() for x in labels), values))[metric] == "1"
        assert "weibo" in svg_texts(page.locator(f"{MAIN} .js-plotly-plot").first, ".legendtext")
        page.screenshot(path=str(artifacts_dir / f"sources_{lang}.png"))
    finally:
        page.close()


@pytest.mark.parametrize(
    ("lang", "headings"),
    [
        ("zh", ["话题与问题", "各方面情感趋势", "上升话题", "常见问题候选"]),
        ("en", ["Topics and questions", "Sentiment per aspect over time", "Rising themes", "FAQ candidates"]),
    ],
)
def test_the_topics_page_draws_aspects_themes_and_questions(
    server: str, browser: Browser, artifacts_dir: Path, lang: str, headings: list[str]
) -> None:
    """Aspects drawn in the page's language, rising themes and FAQ candidates listed (as tables)."""
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    try:
        page.goto(f"{server}/topics?lang={lang}", wait_until="domcontentloaded")
        page.wait_for_selector(PLOT, timeout=180_000)  # jieba's dictionary loads on first use
        page.wait_for_selector(f"{MAIN} [data-testid=stDataFrame]", timeout=120_000)
        settled(page)
        shown = [h.strip() for h in page.locator(f"{MAIN} h1, {MAIN} h2, {MAIN} h3").all_inner_texts()]
        assert all(any(h in s for s in shown) for h in headings), shown
        assert page.locator(f"{MAIN} [data-testid=stDataFrame]").count() == 2, "themes and questions"
        aspects = svg_texts(page.locator(f"{MAIN} .js-plotly-plot").first, ".legendtext")
        assert ("质量" if lang == "zh" else "quality") in aspects
        page.screenshot(path=str(artifacts_dir / f"topics_{lang}.png"))
    finally:
        page.close()
