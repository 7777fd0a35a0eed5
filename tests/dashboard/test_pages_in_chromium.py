"""Every page in Debian's headless Chromium, as a brand manager uses them: one filter on every
page, one language, one clock, actions that say what they do, cases that mean one event, and
the incident brief from the overview's marker to a resolved case.

Mention text and most table cells are drawn on a canvas (not in the DOM): these tests read
what the DOM holds (headings, metrics, chips, captions, buttons, dialogs, the selectbox's
shown value) and check writes in the database.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from dashboard.components import local
from dashboard.filters import DEFAULT_DAYS, utc_start
from querylang import Document, matches, parse
from storage import open_store
from storage.incidents import AspectRise, Incident, SourceCount, get_incident, list_incidents, responses, save_incident
from storage.search import READ_ALL
from storage.textindex import candidates, index_complete
from tests.dashboard.browser import KOUBEI, REPO, dashboard_server
from tests.dashboard.conftest import CRISIS_PRODUCT, is_seeded_crisis

pytestmark = pytest.mark.browser
MAIN = "[data-testid=stMainBlockContainer]"
PLOT = ".js-plotly-plot .main-svg"
PAGES = {
    "overview": "",
    "triage": "triage",
    "mentions": "mentions",
    "incidents": "incidents",
    "reports": "reports",
    "settings": "settings",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One dashboard over the shared demo database for the tests that only read."""
    with dashboard_server(demo_db, tmp_path_factory.mktemp("server") / "streamlit.log") as url:
        yield url


def open_page(browser: Browser, url: str, height: int = 2000) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": height}, accept_downloads=True)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(f"{MAIN} h1, {MAIN} h2", timeout=60_000)
    page.wait_for_selector("[data-testid=stSidebar] [data-testid=stDateInput]", timeout=30_000)
    return page


def settled(page: Page) -> None:
    """Wait until the script run is over (the status widget goes away)."""
    page.wait_for_timeout(800)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)


def metrics(page: Page) -> dict[str, str]:
    settled(page)
    page.wait_for_selector(f"{MAIN} [data-testid=stMetricValue]", timeout=60_000)  # slow under load
    labels = page.locator(f"{MAIN} [data-testid=stMetricLabel]").all_inner_texts()
    values = page.locator(f"{MAIN} [data-testid=stMetricValue]").all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def main_text(page: Page) -> str:
    settled(page)
    return page.locator(MAIN).inner_text()


def picked_case(page: Page) -> str:
    """The value the page's first selectbox shows (held in its input)."""
    settled(page)
    return page.locator(f"{MAIN} [data-testid=stSelectbox] input").first.input_value()


def writable_copy(demo_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "koubei.duckdb"
    shutil.copy(demo_db, db)  # these tests write; the shared demo database stays as built
    return db


def test_the_sidebar_filter_narrows_every_page(server: str, browser: Browser) -> None:
    """Bug: the filters did not filter: /incidents?brand=鲜到家 listed 声浪's case first, the
    rules page ignored every filter, triage ignored the product filter, and the overview's open
    incidents ignored source, product and dates."""
    page = open_page(browser, f"{server}/incidents")
    assert CRISIS_PRODUCT in picked_case(page)
    page.goto(f"{server}/incidents?brand=鲜到家", wait_until="domcontentloaded")
    page.wait_for_selector(f"{MAIN} h2", timeout=60_000)
    settled(page)
    assert CRISIS_PRODUCT not in main_text(page)

    page.goto(f"{server}/triage?product=声浪X1耳机", wait_until="domcontentloaded")
    earphones = metrics(page)
    page.goto(f"{server}/triage?product=声浪P20充电宝", wait_until="domcontentloaded")
    power_bank = metrics(page)
    assert earphones and power_bank and earphones != power_bank

    page.goto(f"{server}/", wait_until="domcontentloaded")
    page.wait_for_selector(PLOT, timeout=60_000)
    everything = metrics(page)["未关闭案件"]
    page.goto(f"{server}/?source=import.csv", wait_until="domcontentloaded")
    page.wait_for_selector(PLOT, timeout=60_000)
    # the two imported mentions came after the crisis's window: no case of theirs is open
    assert int(everything) >= 1 and metrics(page)["未关闭案件"] == "0"

    page.goto(f"{server}/settings", wait_until="domcontentloaded")
    page.wait_for_selector(PLOT, timeout=60_000)
    all_firings = main_text(page)
    page.goto(f"{server}/settings?brand=鲜到家", wait_until="domcontentloaded")
    page.wait_for_selector(f"{MAIN} h2", timeout=60_000)
    one_brand = main_text(page)
    count = re.compile(r"触发 (\d+) 次")
    everywhere, fresh = (int(m.group(1)) if (m := count.search(text)) else 0 for text in (all_firings, one_brand))
    assert everywhere > fresh
    assert "声浪" not in picked_case(page)
    page.close()


def test_each_action_names_itself_and_a_dismissed_dialog_stays_dismissed(
    demo_db: Path, tmp_path: Path, browser: Browser
) -> None:
    """Bug: Acknowledge, Resolve and Log response opened the same "处理事件" dialog with a plain
    保存, and after closing Resolve with Esc the next click elsewhere reopened it."""
    db = writable_copy(demo_db, tmp_path)
    with dashboard_server(db, tmp_path / "streamlit.log") as url:
        page = open_page(browser, f"{url}/incidents")
        resolve = page.get_by_role("button", name=re.compile(r"^解决 \d+ 个事件$"))
        case_size = int(re.sub(r"\D", "", resolve.inner_text()))
        resolve.click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for(timeout=30_000)
        assert "解决事件" in dialog.inner_text()
        assert f"将把以下 {case_size} 个事件标为“已解决”" in dialog.inner_text()
        assert dialog.get_by_role("button", name=f"解决 {case_size} 个事件").is_visible()
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden", timeout=10_000)
        # a click elsewhere reruns the page: the dialog must not come back
        page.get_by_text("同一案件的其他").click()
        settled(page)
        page.wait_for_timeout(1500)
        assert page.get_by_role("dialog").count() == 0
        page.get_by_role("button", name=f"确认 {case_size} 个事件").click()
        page.get_by_role("dialog").wait_for(timeout=30_000)
        assert "确认事件" in page.get_by_role("dialog").inner_text()
        page.close()
    with open_store(db, read_only=True) as store:
        assert not [i for i in list_incidents(store) if i.status != "open" and i.brand == "声浪"]  # nothing saved


def test_english_is_english_everywhere_and_the_url_keeps_codes(server: str, browser: Browser) -> None:
    """Bug: after switching to English the status chips and the incident picker stayed Chinese,
    and the URL held shown labels (lang=English, bucket=天) that meant nothing in the other language."""
    page = open_page(browser, f"{server}/incidents")
    page.locator("[data-testid=stSidebar]").get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="Incident queue").wait_for(timeout=30_000)
    settled(page)
    chips = page.locator(
        f"{MAIN} [data-testid=stMultiSelect] .react-aria-ComboBox [data-tag] span[title]"
    ).all_inner_texts()
    assert [c.strip() for c in chips] == ["Open", "Acknowledged"]
    label = picked_case(page)
    assert label.startswith(f"Tier 5 · Open · Negative spike · product {CRISIS_PRODUCT}")
    assert "lang=en" in page.url
    # the brief reads in English, the product's name and the customers' own words (quoted) aside
    headline = page.locator(".brief-headline").inner_text()
    ours = re.sub(r"\([^)]*\)", "", headline).replace(CRISIS_PRODUCT, "")
    assert "negative mentions at" in ours and not CJK.search(ours), headline

    page.goto(f"{server}/?lang=en&bucket=day", wait_until="domcontentloaded")
    page.wait_for_selector(PLOT, timeout=60_000)
    assert "One bar per Day" in main_text(page)
    page.locator("[data-testid=stSidebar]").get_by_text("中文", exact=True).click()
    page.get_by_role("heading", name="口碑总览").wait_for(timeout=30_000)
    settled(page)
    assert "bucket=day" in page.url and "按天汇总" in main_text(page)
    page.goto(f"{server}/?lang=English", wait_until="domcontentloaded")  # links made before
    page.get_by_role("heading", name="Word-of-mouth overview").wait_for(timeout=60_000)
    page.close()


def test_one_clock_shown_once_and_used_by_the_brief(demo_db: Path, tmp_path: Path, browser: Browser) -> None:
    """Bug: the queue and overview used Beijing time, the incident facts UTC and the backtest UTC
    without saying so. One display zone ([dashboard] timezone), named in the header, everywhere."""
    with open_store(demo_db, read_only=True) as store:
        crisis = next(i for i in list_incidents(store) if is_seeded_crisis(i))
    starts = {}
    for zone, offset in (("Asia/Shanghai", "UTC+08:00"), ("UTC", "UTC+00:00")):
        config = tmp_path / f"{offset}.toml"
        config.write_text(f'[dashboard]\ntimezone = "{zone}"\n', encoding="utf-8")
        with dashboard_server(demo_db, tmp_path / f"{offset}.log", config=config) as url:
            page = open_page(browser, f"{url}/incidents?incident={crisis.id}")
            page.locator(".brief-headline").wait_for(timeout=30_000)
            assert f"所有时间均为 {zone}（{offset}）" in main_text(page)
            starts[zone] = metrics(page)["时间窗"]
            page.close()
    # the same case's window, eight hours apart on the two clocks, and in UTC as stored
    utc, beijing = (datetime.strptime(starts[zone][:11], "%m-%d %H:%M") for zone in ("UTC", "Asia/Shanghai"))
    assert beijing - utc == timedelta(hours=8)
    assert utc <= datetime.strptime(f"{crisis.window_start:%m-%d %H:%M}", "%m-%d %H:%M")


def delivery_burst(crisis: Incident) -> Incident:
    """An unrelated delivery-delay burst of the same brand whose window overlaps the crisis."""
    start = crisis.window_start + timedelta(hours=2)
    return Incident(
        id="delivery-burst",
        kind="negative",
        scope_type="aspect",
        brand=crisis.brand,
        scope_value="物流",
        bucket="1h",
        window_start=start,
        window_end=start + timedelta(hours=3),
        peak_at=start + timedelta(hours=1),
        observed=12,
        expected=2,
        score=5.0,
        severity=3,
        keywords=("快递", "延误"),
        aspects=(AspectRise("物流", 12, 2.0),),
        sources=(SourceCount("demo.jd", 12),),
        created_at=datetime(2026, 11, 20),
        updated_at=datetime(2026, 11, 20),
        factor=6.0,
    )


def test_acknowledging_a_crisis_leaves_an_unrelated_burst_alone(
    demo_db: Path, tmp_path: Path, browser: Browser
) -> None:
    """Bug: acknowledging the power-bank crisis also acknowledged an unrelated delivery-delay
    burst of the same brand whose window overlapped: cases grouped by brand and window alone."""
    db = writable_copy(demo_db, tmp_path)
    with open_store(db) as store:
        crisis = next(i for i in list_incidents(store) if is_seeded_crisis(i))
        save_incident(store, delivery_burst(crisis), [])
    with dashboard_server(db, tmp_path / "streamlit.log") as url:
        page = open_page(browser, f"{url}/incidents?incident={crisis.id}")
        assert "2 个案件" in main_text(page)
        button = page.get_by_role("button", name=re.compile(r"^确认 \d+ 个事件$"))
        button.click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for(timeout=30_000)
        assert "物流" not in dialog.inner_text()
        dialog.get_by_role("button", name=re.compile(r"^确认 \d+ 个事件$")).click()
        page.get_by_text("已记录").wait_for(timeout=30_000)
        page.close()
    with open_store(db, read_only=True) as store:
        assert get_incident(store, crisis.id).status == "acknowledged"  # type: ignore[union-attr]
        assert get_incident(store, "delivery-burst").status == "open"  # type: ignore[union-attr]


def test_the_incident_brief_end_to_end(demo_db: Path, tmp_path: Path, browser: Browser, artifacts_dir: Path) -> None:
    """From the overview's marker to a resolved case: the brief opens with one sentence of stored
    facts, the tier's deadline and owner; the manager acknowledges, uses the suggested response
    and resolves, each logged; the brief is a link and prints as a clean page."""
    db = writable_copy(demo_db, tmp_path)
    with open_store(db, read_only=True) as store:
        crisis = next(i for i in list_incidents(store) if is_seeded_crisis(i))
    with dashboard_server(db, tmp_path / "streamlit.log") as url:
        page = open_page(browser, f"{url}/")
        page.wait_for_selector(PLOT, timeout=60_000)
        settled(page)
        ids = page.evaluate(
            "() => document.querySelector('.js-plotly-plot').data.find(t => Array.isArray(t.customdata)).customdata"
        )
        holding = next(n for n, members in enumerate(ids) if crisis.id in members)
        page.locator(".js-plotly-plot .scatterlayer .point").nth(holding).click(force=True)
        page.wait_for_url(re.compile(r"/incidents\?.*incident="), timeout=30_000)
        headline = page.locator(".brief-headline")
        headline.wait_for(timeout=30_000)
        sentence = headline.inner_text()
        assert CRISIS_PRODUCT in sentence and "倍" in sentence and "条涉及安全" in sentence, sentence
        text = main_text(page)
        assert "5 级须在 60 分钟 内首次回应" in text and "各相关部门" in text
        assert "还没有任何处理记录" in text  # the empty log says what to do
        page.wait_for_selector(f"{MAIN} {PLOT}", timeout=30_000)
        page.screenshot(path=str(artifacts_dir / "brief_zh.png"))
        page.emulate_media(media="print")
        assert not page.locator("[data-testid=stSidebar]").is_visible()
        page.screenshot(path=str(artifacts_dir / "brief_print.png"))
        page.emulate_media(media="screen")
        lead = page.url.split("incident=")[1].split("&")[0]

        n = len(ids[holding])
        page.get_by_role("button", name=f"确认 {n} 个事件").click()
        page.get_by_role("dialog").get_by_role("button", name=f"确认 {n} 个事件").click()
        page.get_by_text(f"已记录：确认（{n} 个事件）").wait_for(timeout=30_000)

        reply = page.get_by_label("发布前可修改")
        suggested = reply.input_value()
        assert CRISIS_PRODUCT in suggested and "今天" in suggested
        reply.fill(suggested + "（已同步微博）")
        reply.blur()
        page.get_by_role("button", name="使用此回应（记入响应日志）").click()
        page.get_by_text("已记录：回应").wait_for(timeout=30_000)

        page.get_by_role("button", name=f"解决 {n} 个事件").click()
        page.get_by_role("dialog").get_by_role("button", name=f"解决 {n} 个事件").click()
        page.get_by_text(f"已记录：解决（{n} 个事件）").wait_for(timeout=30_000)
        page.close()

        shared = open_page(browser, f"{url}/incidents?incident={lead}")  # the link, opened fresh
        assert "已解决" in metrics(shared)["状态"]
        shared.close()
    with open_store(db, read_only=True) as store:
        for member in ids[holding]:
            assert get_incident(store, member).status == "resolved"  # type: ignore[union-attr]
        log = responses(store, lead)
    assert [e.action for e in log] == ["acknowledge", "respond", "resolve"]
    assert log[1].note is not None and log[1].note.endswith("（已同步微博）")


def test_every_page_in_both_languages(server: str, browser: Browser, artifacts_dir: Path) -> None:
    """Each page loads without an error in Chinese and English; screenshots for a human to look at."""
    for name, path in PAGES.items():
        for lang in ("zh", "en"):
            page = open_page(browser, f"{server}/{path}?lang={lang}", height=2400)
            if name in ("overview", "incidents", "settings"):
                page.wait_for_selector(PLOT, timeout=60_000)
            settled(page)
            page.wait_for_timeout(1500)  # tables paint on canvas after the chart
            assert page.locator("[data-testid=stException]").count() == 0, name
            page.screenshot(path=str(artifacts_dir / f"page_{name}_{lang}.png"))
            page.close()


def test_an_imported_mention_naming_a_product_counts_under_it(demo_db: Path, tmp_path: Path, browser: Browser) -> None:
    """Bug: a mention naming 声浪P20充电宝, imported without --brand, was stored with no brand and
    vanished from every brand and product filter."""
    db = writable_copy(demo_db, tmp_path)
    export = tmp_path / "crm.csv"
    export.write_text("内容,评论时间\n声浪P20充电宝放包里发烫，客服也不回,2026-11-20 10:00:00\n", encoding="utf-8")
    with dashboard_server(db, tmp_path / "streamlit.log") as url:
        page = open_page(browser, f"{url}/?product={CRISIS_PRODUCT}")
        page.wait_for_selector(PLOT, timeout=60_000)
        before = int(metrics(page)["提及量"].replace(",", ""))
        imported = subprocess.run(
            [str(KOUBEI), "--db", str(db), "import", str(export), "--source", "crm"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert imported.returncode == 0, imported.stderr
        page.wait_for_timeout(6000)  # past the dashboard's cache
        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector(PLOT, timeout=60_000)
        assert int(metrics(page)["提及量"].replace(",", "")) == before + 1
        page.close()


def test_the_small_things_a_manager_notices(server: str, browser: Browser) -> None:
    """Bugs: the tab icon came from a font CDN (no icon offline or in mainland China); hourly
    buckets swung between 0 and 1 when a filter left few mentions; incident keywords repeated
    the product's own name or were segmentation debris."""
    page = open_page(browser, f"{server}/?source=import.csv")
    page.wait_for_selector(PLOT, timeout=60_000)
    icons = page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    assert icons and all(href.startswith(server) for href in icons), icons
    # two mentions in a week: one bar a day, and no share drawn from one or two of them
    assert "按天汇总" in main_text(page)
    page.goto(f"{server}/incidents", wait_until="domcontentloaded")
    page.locator(".brief-headline").wait_for(timeout=60_000)
    page.locator(".brief-chip").first.wait_for(timeout=60_000)  # drawn after the headline: empty if read at once
    chips = page.locator(".brief-chip").all_inner_texts()
    assert chips and not {"声浪", "P20", "宝一", "充着"} & set(chips), chips
    page.close()


# The mentions explorer (提及): table cells are drawn on a canvas, so the count is read from the
# caption and the correction checked in the database.
MENTIONS_QUERY = "充电宝 NEAR/10 發燙"  # traditional 發燙 finds 发烫


def expected_mention_count(db: Path, query: str) -> int:
    """Mentions of the default filter's days (the last DEFAULT_DAYS local days) the query matches."""
    parsed = parse(query)
    with open_store(db, read_only=True) as store:
        rows = store.query("SELECT source, native_id, text, language, brand, product, published_at FROM mentions")
    last = max(r[6] for r in rows)
    last_day = local(last, "Asia/Shanghai").date()
    start, end = (
        utc_start(last_day - timedelta(days=DEFAULT_DAYS - 1), "Asia/Shanghai"),
        utc_start(last_day + timedelta(days=1), "Asia/Shanghai"),
    )
    return sum(
        1 for s, n, text, lang, b, p, at in rows if start <= at < end and matches(parsed, Document(text, s, lang, b, p))
    )


def test_a_search_finds_the_right_mentions_and_a_correction_is_saved(
    demo_db: Path, tmp_path: Path, browser: Browser, artifacts_dir: Path
) -> None:
    db = writable_copy(demo_db, tmp_path)
    with open_store(db, read_only=True) as store:
        # the search runs through the full-text index: it covers the demo, and the query's candidates
        # are few enough that the page and the count are read among them alone (storage/search.py)
        narrowed = candidates(parse(MENTIONS_QUERY))
        assert index_complete(store) and narrowed is not None
        assert 0 < store.query(f"SELECT count(*) FROM ({narrowed[0]})", narrowed[1])[0][0] <= READ_ALL
    with dashboard_server(db, tmp_path / "streamlit.log") as url:
        page = open_page(browser, f"{url}/mentions", height=1600)
        box = page.locator(f"{MAIN} [data-testid=stTextInput] input")
        box.fill(MENTIONS_QUERY)
        box.press("Enter")
        settled(page)
        expected = expected_mention_count(db, MENTIONS_QUERY)
        assert expected > 0
        page.get_by_text(f"共 {expected} 条提及").wait_for(timeout=30_000)

        # The first cell of the first row is its sentiment correction: open its editor, pick 正面.
        grid = page.locator(f"{MAIN} [data-testid=stDataFrame]").first
        grid.wait_for(timeout=30_000)
        box_of = grid.bounding_box()
        assert box_of is not None
        page.mouse.dblclick(box_of["x"] + 40, box_of["y"] + 35 + 17)
        page.get_by_text("正面", exact=True).last.click(timeout=30_000)
        page.wait_for_timeout(1000)  # the grid commits the edit to the app before the click below
        page.get_by_role("button", name="保存修正").click()
        page.get_by_text("已保存 1 条修正").wait_for(timeout=30_000)
        page.screenshot(path=str(artifacts_dir / "mentions.png"), full_page=True)
    with open_store(db, read_only=True) as store:
        saved = store.query("SELECT label, text FROM sentiment_labels")
    assert [label for label, _ in saved] == ["pos"]
    assert matches(parse(MENTIONS_QUERY), Document(saved[0][1]))  # the row corrected is one the search found
