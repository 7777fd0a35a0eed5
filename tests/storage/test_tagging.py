"""`koubei retag` on both backends (the lake has no full-text index: every query is a column of the
pass over the texts): brands, products and topics as the Python matcher gives them at ingest, and
one changed query retagging only what it touches as retagging all does."""

from __future__ import annotations

from koubei import topics
from koubei.brands import BrandMatcher, retag
from koubei.settings.sections import Brand, Topic
from storage import Store, upsert_mentions
from tests.storage.test_textindex import generated_mentions

BRANDS = [
    Brand(name="exact", query="(质量 OR 价格) NOT 退款", products=("e-p",), product_queries={"e-p": "价格 NOT 退款"}),
    Brand(name="text", query="充电宝 OR 好", products=("t-p",), product_queries={"t-p": "质量 NEAR/5 差"}),
    Brand(name="late", query="物流 NOT 快递"),
]
TOPICS = (Topic(name="exact", query="(退款 OR 退货) NOT 客服"), Topic(name="text", query="质量 NEAR/6 差"))


def _tagged(store: Store) -> set[tuple[str, str, str | None, str | None]]:
    return {(s, n, b, p) for s, n, b, p in store.query("SELECT source, native_id, brand, product FROM mentions")}


def test_retag_tags_as_ingest_does_on_both_backends(store: Store) -> None:
    mentions = generated_mentions(600, seed=5)
    upsert_mentions(store, mentions)
    matcher = BrandMatcher.of(BRANDS)
    assert retag(store, BRANDS) > 0
    expected = {(m.source, m.native_id, *matcher.fill(m.text, None, None, m.source, m.language)) for m in mentions}
    assert _tagged(store) == expected
    assert {b for _, _, b, _ in expected} == {"exact", "text", "late", None}

    text = Brand(name="text", query="充电宝 OR 差", products=("t-p",), product_queries={"t-p": "质量 NEAR/5 差"})
    changed = [BRANDS[0], text, BRANDS[2]]
    retag(store, changed)
    matcher = BrandMatcher.of(changed)
    assert _tagged(store) == {
        (m.source, m.native_id, *matcher.fill(m.text, None, None, m.source, m.language)) for m in mentions
    }

    assert topics.retag(store, TOPICS) > 0
    tags = {(s, n, t) for s, n, t in store.query("SELECT source, native_id, topic FROM mention_topics")}
    assert tags == set(topics.topic_tags(topics.topic_rules(TOPICS), mentions))
