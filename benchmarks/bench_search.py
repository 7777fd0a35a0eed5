"""Search and the mentions explorer at scale (issue 13), `koubei retag` of brands and topics, and the
explorer in the real browser. Medians of 5:

1. `koubei search` queries (storage.search.search, 50 newest) of every shape: a word, a phrase,
   NOT, OR, NEAR, English, a `source:` field (the store's largest source), traditional script;
2. explorer pages: 客服 OR 物流 over the last 90 days, 50 by time and by reach, plus the count,
   without and with a brand (the store's largest);
3. on a copy of the store (deleted after; `KOUBEI_BENCH_RETAG=0` skips it): retagging every
   mention after the brand configuration changed (brands and products cleared), then after one
   brand's query changed (only what its old and new query touch retagged), four new topics, then
   one topic's query changed;
4. (`KOUBEI_BENCH_BROWSER=0` skips it) a search typed into the Mentions page of `koubei dashboard`
   in headless Chromium, from Enter to the page redrawn, three queries.

The store: $KOUBEI_BENCH_STORE (a database with a complete full-text index, such as the shared
year store of /work/notes/STORE10M.md), opened read-only, its copy made in $KOUBEI_BENCH_COPY_DIR;
else $KOUBEI_BENCH_SEARCH_N (default 1,000,000) mentions of bench_scale's generator, the index
rebuilt sorted (timed, with its bytes per mention). Run: `make bench` or
`.venv/bin/python -m benchmarks search`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from benchmarks.bench_scale import BRANDS, _store
from koubei import topics
from koubei.brands import retag
from koubei.settings.sections import Brand, Topic
from querylang import Query, parse
from sentiment.corpus import written_corpus
from storage import Store, open_store
from storage.search import Order, Window, count_found, search
from storage.textindex import index_bytes, rebuild_index

COUNT = int(os.environ.get("KOUBEI_BENCH_SEARCH_N", "1000000"))
# Every shape of query (issue 13): a word, a phrase, AND / OR / NOT, NEAR, field filters and
# traditional script; SOURCE is filled in with the store's largest source.
QUERIES = (
    "发热",
    '"质量很好"',
    "物流 NOT 快递",
    "(退货 OR 退款) 客服",
    "电池 NEAR/5 差",
    "delivery",
    "客服 source:{source}",
    "發熱 OR 發燙",
)
TOPICS = (
    Topic(name="发热", query="发热 OR 发烫 OR 过热"),
    Topic(name="物流", query="物流 OR 快递 OR 配送 OR 发货"),
    Topic(name="退款", query="(退款 OR 退货) NOT 已退"),
    Topic(name="电池", query="电池 NEAR/5 差"),
)


def _median(run: Callable[[], object], times: int = 5) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(times):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


# Issue 13's targets, set for 10 million mentions: checked here at any N, so a miss at 1M is said.
SEARCH_TARGET = 0.5
EXPLORER_TARGET = 0.3
RETAG_TARGET = 60.0


def _largest(store: Store, column: str) -> str:
    return str(store.query(f"SELECT {column} FROM mentions GROUP BY ALL ORDER BY count(*) DESC LIMIT 1")[0][0])


def _searches(store: Store, source: str) -> list[str]:
    missed = []
    for text in (q.format(source=source) for q in QUERIES):
        query = parse(text)
        seconds, found = _median(lambda q=query: search(store, q, limit=50))  # type: ignore[misc]
        print(f"search {text!r}: median {seconds * 1000:.0f} ms ({len(found)} shown, {_load()})")  # type: ignore[arg-type]
        if seconds > SEARCH_TARGET:
            missed.append(f"search {text!r} {seconds:.2f} s > {SEARCH_TARGET} s")
    return missed


def _explorer(store: Store, brand: str) -> list[str]:
    """Explorer pages: a query over 90 days, by time and by reach, with the count; then with a brand."""
    end = store.query("SELECT max(published_at) FROM mentions")[0][0]
    missed = []
    for text, brands in (("客服 OR 物流", ()), ("客服 OR 物流", (brand,))):
        query, window = parse(text), Window(end - timedelta(days=90), end, brands=brands)
        orders: tuple[Order, ...] = ("time", "reach")
        for order in orders:
            seconds, total = _median(lambda o=order, q=query, w=window: _page(store, q, w, o))  # type: ignore[misc]
            what = f"explorer page ({text!r}, brands {list(brands)}, 90 days, 50 by {order} + count)"
            print(f"{what}: median {seconds * 1000:.0f} ms of {total:,} ({_load()})")
            if seconds > EXPLORER_TARGET:
                missed.append(f"{what} {seconds:.2f} s > {EXPLORER_TARGET} s")
    return missed


def _page(store: Store, query: Query, window: Window, order: Order) -> int:
    search(store, query, window, limit=50, order=order)
    return count_found(store, query, window)


# Brands defined by queries over words the generated reviews hold, so that retagging has work to do.
RETAG_BRANDS = ("质量", "物流", "客服", "价格", "包装", "电池", "屏幕", "味道", "服务", "快递")


def _retag(store: Store) -> list[str]:
    brands = [
        Brand(name=b, query=f"{word} NOT 退款", products=(f"{b}-P",), product_queries={f"{b}-P": f"{word} NEAR/3 好"})
        for b, word in zip(BRANDS, RETAG_BRANDS)
    ]
    store.con.execute("UPDATE mentions SET brand = NULL, product = NULL")
    started = time.perf_counter()
    changed = retag(store, brands)
    brand_seconds = time.perf_counter() - started
    print(f"retag after a brand configuration change: {changed:,} mentions in {brand_seconds:.1f} s ({_load()})")
    # one brand's query changed: only the mentions its old tags or its new query touch are tagged again
    first = brands[0]
    brands[0] = Brand(
        name=first.name,
        query=f"{RETAG_BRANDS[0]} NOT 退货",
        products=first.products,
        product_queries=first.product_queries,
    )
    started = time.perf_counter()
    changed = retag(store, brands)
    requery_seconds = time.perf_counter() - started
    print(f"retag after one brand's query changed: {changed:,} mentions in {requery_seconds:.1f} s ({_load()})")
    started = time.perf_counter()
    tags = topics.retag(store, TOPICS)
    all_seconds = time.perf_counter() - started
    print(f"retag of {len(TOPICS)} new topics: {tags:,} tags in {all_seconds:.1f} s ({_load()})")
    changed_topics = (*TOPICS[:-1], Topic(name="电池", query="电池 NEAR/8 差"))
    started = time.perf_counter()
    tags = topics.retag(store, changed_topics)
    one_seconds = time.perf_counter() - started
    print(f"retag after one topic's query changed: {tags:,} tags in {one_seconds:.1f} s ({_load()})")
    total = max(brand_seconds, requery_seconds) + all_seconds
    return [f"retag {total:.1f} s > {RETAG_TARGET} s"] if total > RETAG_TARGET else []


# The explorer in the real browser: a search typed into the Mentions page until the page has redrawn
# (its count caption shows the new query's total, nothing running or stale). Each run searches for
# another query, so no cached page answers.
BROWSER_QUERIES = ("客服 OR 物流", "退款 OR 退货", "质量 OR 价格")
COUNT_CAPTION = (
    "[...document.querySelectorAll('[data-testid=stCaptionContainer]')].find(c => c.innerText.startsWith('共 '))"
)
SETTLED = (
    f"""(before) => {{
    const caption = {COUNT_CAPTION};
    return caption !== undefined && caption.innerText !== before"""
    + """
    && !document.querySelector('[data-testid=stStatusWidget]')
    && !document.querySelector('[data-stale=true]'); }"""
)


def _in_browser(path: Path, tmp: Path) -> list[str]:
    """Median seconds from Enter in the Mentions page's search box to the page redrawn, in headless
    Chromium against `koubei dashboard` on the store (read-only)."""
    from playwright.sync_api import sync_playwright

    from tests.dashboard.browser import dashboard_server, launch

    seconds = []
    with dashboard_server(path, tmp / "dashboard.log", timeout=180) as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/mentions", wait_until="commit")
        page.wait_for_function(SETTLED, arg="", timeout=300_000, polling=50)
        for text in BROWSER_QUERIES:
            before = page.evaluate(f"() => {COUNT_CAPTION}.innerText")
            box = page.get_by_label("搜索")
            box.fill(text)
            started = time.perf_counter()
            box.press("Enter")
            page.wait_for_function(SETTLED, arg=before, timeout=300_000, polling=20)
            seconds.append(time.perf_counter() - started)
        browser.close()
    median = statistics.median(seconds)
    shown = ", ".join(f"{x:.2f}" for x in seconds)
    print(
        f"explorer search in Chromium (Enter to redrawn, {len(seconds)} queries): median {median:.2f} s ({shown}; {_load()})"
    )
    return [f"explorer in the browser {median:.2f} s > {EXPLORER_TARGET} s"] if median > EXPLORER_TARGET else []


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def _generated(path: Path) -> None:
    """N generated mentions at `path`, the index kept at ingest and then rebuilt sorted."""
    corpus, _ = written_corpus()
    stored = _store(lambda: open_store(path), 0, COUNT, corpus)
    print(f"stored {COUNT:,} mentions in {stored:.1f} s, full-text index kept at ingest ({_load()})")
    with open_store(path) as store:
        _index(store)


def _index(store: Store) -> None:
    started = time.perf_counter()
    indexed = rebuild_index(store)
    seconds = time.perf_counter() - started
    store.con.execute("CHECKPOINT")
    per_mention = index_bytes(store) / max(indexed, 1)
    print(f"rebuild-index: {indexed:,} mentions in {seconds:.1f} s, {per_mention:.0f} bytes per mention ({_load()})")


def _measure(path: Path, copy: Path) -> list[str]:
    """Searches and explorer pages on `path` opened read-only (a shared store stays shared), then the
    retags on `copy` (a writer), deleted after."""
    with open_store(path, read_only=True) as store:
        source, brand = _largest(store, "source"), _largest(store, "brand")
        missed = _searches(store, source) + _explorer(store, brand)
    if os.environ.get("KOUBEI_BENCH_RETAG", "1") == "0":
        return missed
    started = time.perf_counter()
    shutil.copyfile(path, copy)
    print(f"copied the store for retag in {time.perf_counter() - started:.0f} s ({_load()})")
    try:
        with open_store(copy) as store:
            missed += _retag(store)
    finally:
        copy.unlink(missing_ok=True)
        Path(f"{copy}.wal").unlink(missing_ok=True)
    return missed


def main() -> None:
    """With $KOUBEI_BENCH_STORE (a store with a complete index, such as the shared year store of
    /work/notes/STORE10M.md) it is measured read-only and copied for the retags into
    $KOUBEI_BENCH_COPY_DIR (default: a temporary directory); else N mentions are generated."""
    print(f"{os.cpu_count()} cores, {_load()} at start")
    with tempfile.TemporaryDirectory(prefix="tmp-search-", dir=os.environ.get("KOUBEI_BENCH_COPY_DIR")) as tmp:
        given = os.environ.get("KOUBEI_BENCH_STORE")
        path = Path(given) if given else Path(tmp) / "search.duckdb"
        if not given:
            _generated(path)
        missed = _measure(path, Path(tmp) / "retag.duckdb")
        if os.environ.get("KOUBEI_BENCH_BROWSER", "1") != "0":
            missed += _in_browser(path, Path(tmp))
    print(f"{_load()} at end")
    assert not missed, "; ".join(missed)


if __name__ == "__main__":
    main()
