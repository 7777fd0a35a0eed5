"""The shared filters' options (brands, products, sources, the data's span) on a filter change: read
from the catalogue kept at write time (rollup_days, migration 160) and cached until the store changes,
not a scan of every mention on each rerun (issue 18 part 7: at 1M mentions a filter change took
4.0-4.9x the bare page, the options' three full scans of `mentions` every CACHE_TTL seconds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.loaders import load_filter_options, store_stamp
from koubei.records import Mention
from storage import Store, open_store, queries, rollups, upsert_mentions
from storage.forget import Selector, forget
from storage.mentions import set_brands
from tests.dashboard.test_overview_reads import rows_read

START = datetime(2026, 10, 1)
DAYS = 30
PER_DAY = 20
PRODUCTS = {"声浪": ["声浪X1耳机", "声浪P20充电宝"], "律动": ["律动Air耳机"], "鲜到家": ["鲜到家会员卡"]}
SOURCES = ["demo.weibo", "demo.jd", "demo.douban"]


def mentions() -> list[Mention]:
    pairs = [(brand, product) for brand, products in PRODUCTS.items() for product in products]
    made = []
    for i in range(DAYS * PER_DAY):
        brand, product = pairs[i % len(pairs)]
        made.append(
            Mention(
                source=SOURCES[i % len(SOURCES)],
                native_id=str(i),
                text=f"第{i}条",
                published_at=(START + timedelta(minutes=i * 24 * 60 // PER_DAY + 7)).replace(tzinfo=UTC),
                brand=None if i % 50 == 0 else brand,
                product=None if i % 50 == 0 else product,
            )
        )
    return made


def from_rows(store: Store) -> dict[str, Any]:
    """The options as the stored rows give them (what the old full scans returned)."""
    pairs = store.query("SELECT DISTINCT brand, product FROM mentions WHERE brand IS NOT NULL ORDER BY 1, 2")
    products: dict[str, list[str]] = {}
    for brand, product in pairs:
        products.setdefault(brand, []).extend([product] if product else [])
    sources = [r[0] for r in store.query("SELECT DISTINCT source FROM mentions ORDER BY 1")]
    first, last = store.query("SELECT min(published_at), max(published_at) FROM mentions")[0]
    return {"brands": list(products), "products": products, "sources": sources, "first": first, "last": last}


def test_options_read_the_catalogue_and_the_rows_of_two_days(tmp_path: Path) -> None:
    """Bug: filter_options scanned every mention three times (brands and products, sources, the span)
    on every rerun whose cache had expired: a filter change cost a full scan of the store."""
    with open_store(tmp_path / "options.duckdb") as store:
        upsert_mentions(store, mentions())
        options = queries.filter_options(store)
        assert options == from_rows(store)
        assert options["brands"] == sorted(PRODUCTS)
        read = rows_read(store, tmp_path, lambda: queries.filter_options(store))
    assert read <= 2 * PER_DAY < DAYS * PER_DAY


def test_options_follow_a_retag_and_an_erasure(tmp_path: Path) -> None:
    """The catalogue is kept by every write the rollups follow: a product moved to another brand and
    the only mention of a source erased leave the options the rows give, and a rebuild changes nothing."""
    db = tmp_path / "kept.duckdb"
    lonely = Mention(
        source="demo.tieba",
        native_id="only",
        text="唯一一条",
        published_at=(START + timedelta(days=DAYS + 3)).replace(tzinfo=UTC),
        brand="鲜到家",
        product="鲜到家会员卡",
    )
    with open_store(db) as store:
        upsert_mentions(store, [*mentions(), lonely])
        assert queries.filter_options(store)["last"] == START + timedelta(days=DAYS + 3)
        moved = store.query("SELECT source, native_id FROM mentions WHERE product = '律动Air耳机'")
        set_brands(store, [(source, native_id, "声浪", "声浪X1耳机") for source, native_id in moved])
    forget(lambda: open_store(db), Selector("mention", "demo.tieba:only"), "tester", "test")
    with open_store(db) as store:
        options = queries.filter_options(store)
        assert options == from_rows(store)
        assert "律动" not in options["brands"] and "demo.tieba" not in options["sources"]
        kept = rollups.day_snapshot(store)
        rollups.rebuild(store)
        assert rollups.day_snapshot(store) == kept


def test_the_options_cache_key_changes_with_a_write_only(tmp_path: Path) -> None:
    """The options are cached under the store's stamp: the same while nobody writes (a filter change
    reuses them however long after), another after any write (new brands show up at once)."""
    db = tmp_path / "stamped.duckdb"
    with open_store(db) as store:
        upsert_mentions(store, mentions()[:10])
    before = store_stamp(str(db))
    assert load_filter_options(str(db))["sources"] == sorted(SOURCES)
    assert store_stamp(str(db)) == before  # a read-only open changes nothing
    with open_store(db) as store:
        upsert_mentions(store, mentions()[10:20])
    assert store_stamp(str(db)) != before
