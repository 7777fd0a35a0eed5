"""Brand and product from the configured keywords: at ingest for every source, and `koubei retag`
for stored mentions after the configuration changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from collectors.demo.stream import DEFAULT_BRANDS, DemoStream
from collectors.file_import import import_file
from koubei.brands import BrandMatcher, retag
from koubei.cli import app
from koubei.config import load_settings
from koubei.errors import ConfigError
from koubei.records import Mention
from koubei.settings.sections import Brand
from storage import open_store, upsert_mentions

BRANDS = (
    Brand(name="声浪", keywords=("声浪", "SonicWave"), products=("声浪X1耳机", "声浪P20充电宝")),
    Brand(name="鲜到家", keywords=("鲜到家",), products=("鲜到家生鲜配送",)),
)
CSV = "内容,评论时间\n声浪P20充电宝充电发烫，太吓人了,2026-11-01 10:00:00\n鲜到家的菜不新鲜,2026-11-01 11:00:00\n随便说说,2026-11-01 12:00:00\n"


def _stored(db: Path) -> list[tuple[str, str | None, str | None]]:
    with open_store(db, read_only=True) as store:
        return [
            tuple(r) for r in store.query("SELECT text, brand, product FROM mentions ORDER BY published_at, native_id")
        ]


def test_the_text_names_the_brand_and_product() -> None:
    matcher = BrandMatcher.of(BRANDS)
    assert matcher.fill("声浪P20充电宝发烫", None, None) == ("声浪", "声浪P20充电宝")
    assert matcher.fill("SonicWave earphones", None, None) == ("声浪", None)
    assert matcher.fill("先用鲜到家，后来换了声浪", None, None) == ("鲜到家", None)  # the first named
    assert matcher.fill("声浪P20充电宝发烫", "鲜到家", None) == ("鲜到家", None)  # a given brand is kept
    assert matcher.fill("没提品牌", None, None) == (None, None)


def test_an_import_without_brand_is_tagged_from_its_text(tmp_path: Path, db_path: Path) -> None:
    """Bug: a mention naming 声浪P20充电宝, imported without --brand, was stored with no brand
    and vanished from every brand filter."""
    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    import_file(path, "crm", {}, lambda: open_store(db_path), brands=BRANDS)
    assert [row[1:] for row in _stored(db_path)] == [("声浪", "声浪P20充电宝"), ("鲜到家", None), (None, None)]


def test_retag_fills_in_stored_mentions_after_a_brand_is_configured(tmp_path: Path, db_path: Path) -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with open_store(db_path) as store:
        upsert_mentions(
            store,
            [
                Mention(source="s", native_id="1", text="声浪P20充电宝发烫", published_at=at),
                Mention(source="s", native_id="2", text="鲜到家送错了", published_at=at, brand="鲜到家"),
            ],
        )
        assert retag(store, ()) == 0  # nothing configured: nothing to say
    config = tmp_path / "koubei.toml"
    config.write_text(
        '[[brands]]\nname = "声浪"\nkeywords = ["声浪"]\nproducts = ["声浪P20充电宝"]\n', encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["--db", str(db_path), "--config", str(config), "retag"])
    assert result.exit_code == 0, result.output
    assert "retagged 1 mentions" in result.output
    assert [row[1:] for row in _stored(db_path)] == [("声浪", "声浪P20充电宝"), ("鲜到家", None)]
    with open_store(db_path) as store:
        assert retag(store, BRANDS) == 0  # idempotent


def _keyword_fill(
    brands: Sequence[Brand], text: str, brand: str | None, product: str | None
) -> tuple[str | None, str | None]:
    """The keyword rule before watch queries (koubei/brands.py at ef744a7), the reference that
    keyword-only configurations must keep giving."""
    products = sorted(((p, b.name) for b in brands for p in b.products if p), key=lambda pb: -len(pb[0]))
    names = [(word, b.name) for b in brands for word in dict.fromkeys([b.name, *b.keywords]) if word]
    if brand and product:
        return brand, product
    named = next(((p, b) for p, b in products if (not brand or b == brand) and p in text), None)
    if named is not None:
        return brand or named[1], product or named[0]
    found = [(text.find(word), n, b) for n, (word, b) in enumerate(names) if word in text]
    return brand or (min(found)[2] if found else None), product


def test_keyword_only_configuration_tags_the_demo_as_before(tmp_path: Path) -> None:
    """The repository's koubei.toml (keywords only) over a week of the demo stream, its brand and
    product taken away: ingest (Python) and `koubei retag` (SQL) both give what keywords gave."""
    brands = load_settings(Path(__file__).parents[1] / "koubei.toml").brands
    end = datetime(2026, 11, 8, tzinfo=UTC)
    stream = DemoStream(DEFAULT_BRANDS, seed=7, anchor=end, rate=6, crisis_hours_ago=40)
    mentions = [replace(m, brand=None, product=None) for m in stream.between(end - timedelta(days=7), end)]
    mentions += [replace(m, native_id=m.native_id + "-b", product=None) for m in mentions[::7]]  # brand known
    expected = [_keyword_fill(brands, m.text, m.brand, m.product) for m in mentions]
    assert len({e for e in expected}) > 3  # the demo names several brands and products

    matcher = BrandMatcher.of(brands)
    assert [(t.brand, t.product) for t in matcher.tag_all(mentions)] == expected

    with open_store(tmp_path / "demo.duckdb") as store:
        upsert_mentions(store, mentions)
        retag(store, brands)
        stored = dict(
            ((s, n), (b, p)) for s, n, b, p in store.query("SELECT source, native_id, brand, product FROM mentions")
        )
    assert [stored[(m.source, m.native_id)] for m in mentions] == expected


def test_a_brand_defined_by_a_query_matches_traditional_text_and_respects_not(tmp_path: Path) -> None:
    brands = (
        Brand(
            name="声浪",
            query='(声浪 OR SonicWave) NOT "声浪漫"',
            products=("声浪P20充电宝",),
            product_queries={"声浪P20充电宝": "P20 NEAR/4 充电宝"},
        ),
        Brand(name="鲜到家", keywords=("鲜到家",)),
    )
    texts = ["聲浪的耳機不錯", "sonicwave P20 的充电宝发烫", "声浪漫游", "鲜到家和声浪"]
    when = datetime(2026, 11, 1, tzinfo=UTC)
    mentions = [Mention(source="weibo", native_id=str(n), text=t, published_at=when) for n, t in enumerate(texts)]
    expected = [("声浪", None), ("声浪", "声浪P20充电宝"), (None, None), ("鲜到家", None)]
    assert [(m.brand, m.product) for m in BrandMatcher.of(brands).tag_all(mentions)] == expected
    with open_store(tmp_path / "q.duckdb") as store:
        upsert_mentions(store, mentions)
        assert retag(store, brands) == 3
        assert store.query("SELECT brand, product FROM mentions ORDER BY native_id") == expected


def test_a_malformed_brand_query_is_refused_when_the_config_is_read(tmp_path: Path, db_path: Path) -> None:
    config = tmp_path / "koubei.toml"
    config.write_text('[[brands]]\nname = "鲜到家"\nquery = "鲜到家 OR (FreshHome NOT"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--db", str(db_path), "--config", str(config), "config", "check"])
    assert isinstance(result.exception, ConfigError)  # `koubei` prints it and exits 2
    assert "brands[0]: brand 鲜到家 query: expected a term after NOT, found the end of the query at column 22" in str(
        result.exception
    )


def test_retag_after_a_query_changed_removes_the_tags_it_no_longer_gives(db_path: Path) -> None:
    """Bug: retag only filled in missing brands: a brand whose query changed kept the mentions its
    old query had tagged (no record of which tags a query gave)."""
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with open_store(db_path) as store:
        upsert_mentions(
            store,
            [
                Mention(source="s", native_id="1", text="声浪耳机不错", published_at=at),
                Mention(source="s", native_id="2", text="SonicWave 耳机", published_at=at),
                Mention(source="s", native_id="3", text="声浪的快递慢", published_at=at, brand="声浪"),
                Mention(source="s", native_id="4", text="声浪P20充电宝发烫", published_at=at),
            ],
        )
        old = [Brand(name="声浪", query="声浪 OR SonicWave", products=("声浪P20充电宝",))]
        assert retag(store, old) == 3
        store.con.execute("UPDATE mentions SET brand = '鲜到家' WHERE native_id = '4'")  # a person's correction
        assert retag(store, [Brand(name="声浪", query="SonicWave", products=("声浪P20充电宝",))]) == 2
        assert store.query("SELECT native_id, brand, product FROM mentions ORDER BY native_id") == [
            ("1", None, None),  # the old query's tag is gone
            ("2", "声浪", None),
            ("3", "声浪", None),  # given by the source: kept
            ("4", "鲜到家", None),  # the person's brand kept (and 声浪's product no longer fits it)
        ]
        assert retag(store, [Brand(name="声浪", query="SonicWave", products=("声浪P20充电宝",))]) == 0


def test_retag_without_brands_clears_what_a_retag_gave_and_a_new_brand_tags_again(db_path: Path) -> None:
    """Bug: with no brand left, retag failed recording the (empty) list of rules it applied."""
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with open_store(db_path) as store:
        upsert_mentions(store, [Mention("s", "1", "声浪耳机不错", at), Mention("s", "2", "鲜到家送错了", at)])
        assert retag(store, [Brand(name="声浪", query="声浪", products=("声浪耳机",))]) == 1
        assert retag(store, []) == 1
        assert store.query("SELECT brand, product FROM mentions ORDER BY native_id") == [(None, None), (None, None)]
        assert retag(store, [Brand(name="鲜到家", query="鲜到 OR 耳机")]) == 2
        assert retag(store, [Brand(name="鲜到家", query="鲜到")]) == 1  # one query changed: only what it touches
        assert store.query("SELECT brand FROM mentions ORDER BY native_id") == [(None,), ("鲜到家",)]
