"""The mentions explorer (提及) in Debian's headless Chromium: a watch-query search returns the
mentions querylang's Python matcher finds in the filter's days, and a sentiment correction made
in the table is saved. Table cells are drawn on a canvas: the count is read from the caption and
the correction checked in the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from dashboard.components import local
from dashboard.filters import DEFAULT_DAYS, utc_start
from querylang import Document, matches, parse
from storage import open_store
from tests.dashboard.browser import dashboard_server, launch
from tests.dashboard.test_pages_in_chromium import MAIN, open_page, settled, writable_copy

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
QUERY = "充电宝 NEAR/10 發燙"  # traditional 發燙 finds 发烫
TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        opened = launch(p)
        yield opened
        opened.close()


def expected_count(db: Path, query: str) -> int:
    """Mentions of the default filter's days (the last DEFAULT_DAYS local days) the query matches."""
    parsed = parse(query)
    with open_store(db, read_only=True) as store:
        rows = store.query("SELECT source, native_id, text, language, brand, product, published_at FROM mentions")
    last = max(r[6] for r in rows)
    last_day = local(last, TZ).date()
    start, end = utc_start(last_day - timedelta(days=DEFAULT_DAYS - 1), TZ), utc_start(last_day + timedelta(days=1), TZ)
    return sum(
        1 for s, n, text, lang, b, p, at in rows if start <= at < end and matches(parsed, Document(text, s, lang, b, p))
    )


def test_a_search_finds_the_right_mentions_and_a_correction_is_saved(
    demo_db: Path, tmp_path: Path, browser: Browser, artifacts_dir: Path
) -> None:
    db = writable_copy(demo_db, tmp_path)
    with dashboard_server(db, tmp_path / "streamlit.log") as url:
        page = open_page(browser, f"{url}/mentions", height=1600)
        box = page.locator(f"{MAIN} [data-testid=stTextInput] input")
        box.fill(QUERY)
        box.press("Enter")
        settled(page)
        expected = expected_count(db, QUERY)
        assert expected > 0
        page.get_by_text(f"共 {expected} 条提及").wait_for(timeout=30_000)

        # The first cell of the first row is its sentiment correction: open its editor, pick 正面.
        grid = page.locator(f"{MAIN} [data-testid=stDataFrame]").first
        grid.wait_for(timeout=30_000)
        box_of = grid.bounding_box()
        assert box_of is not None
        page.mouse.dblclick(box_of["x"] + 40, box_of["y"] + 35 + 17)
        page.get_by_text("正面", exact=True).last.click(timeout=15_000)
        page.keyboard.press("Escape")
        page.get_by_role("button", name="保存修正").click()
        page.get_by_text("已保存 1 条修正").wait_for(timeout=30_000)
        page.screenshot(path=str(artifacts_dir / "mentions.png"), full_page=True)
    with open_store(db, read_only=True) as store:
        saved = store.query("SELECT label, text FROM sentiment_labels")
    assert [label for label, _ in saved] == ["pos"]
    assert matches(parse(QUERY), Document(saved[0][1]))  # the row corrected is one the search found
