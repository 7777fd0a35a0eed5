"""Brand and product from the configured keywords: at ingest for every source, and `koubei retag`
for stored mentions after the configuration changed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from collectors.file_import import import_file
from koubei.brands import BrandMatcher, retag
from koubei.cli import app
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
