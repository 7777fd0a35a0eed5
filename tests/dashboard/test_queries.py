"""storage/queries.py on a small hand-made database with known answers.

Rows go in through the real writers (upsert_mentions, the sentiment package's
write_scores, the alerts package's save_incident), so the numbers below are
worked out by hand from the rows, not by the code under test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from koubei.records import Mention
from storage import Store, queries, upsert_mentions
from storage.incidents import Incident, get_incident, save_incident
from storage.queries import MentionFilter
from storage.sentiment import write_scores

DAY = datetime(2026, 11, 10)  # naive UTC, as stored and as queries take it


def _mention(
    native_id: str,
    hours: float,
    brand: str = "声浪",
    product: str = "声浪X1耳机",
    source: str = "demo.weibo",
    likes: int = 0,
) -> Mention:
    return Mention(
        source=source,
        native_id=native_id,
        text=f"文本{native_id}",
        published_at=(DAY + timedelta(hours=hours)).replace(tzinfo=UTC),
        brand=brand,
        product=product,
        url=f"https://example.com/{native_id}",
        likes=likes,
        rating=None,
    )


# (id, hours after DAY, brand, product, source, score, label)
ROWS = [
    ("a", 1, "声浪", "声浪X1耳机", "demo.weibo", 0.9, "pos"),
    ("b", 2, "声浪", "声浪X1耳机", "demo.jd", 0.1, "neg"),
    ("c", 3, "声浪", "声浪P20充电宝", "demo.weibo", 0.2, "neg"),
    ("d", 5, "声浪", "声浪P20充电宝", "demo.weibo", 0.5, "neu"),
    ("e", 17, "鲜到家", "鲜到家会员卡", "demo.jd", 0.05, "neg"),  # 01:00 next day in Beijing
    ("f", -20, "声浪", "声浪X1耳机", "demo.weibo", 0.8, "pos"),  # the previous day
    ("g", -19, "声浪", "声浪X1耳机", "demo.weibo", 0.3, "neg"),
    ("u", 4, "声浪", "声浪X1耳机", "demo.weibo", None, None),  # not scored yet
    ("x", 6, "声浪", "声浪X1耳机", "demo.weibo", 0.0, "neg"),  # excluded as a template review
]


def _incident(
    id_: str, kind: str, brand: str, value: str, hours: tuple[int, int, int], status: str, severity: int = 3
) -> Incident:
    """A brand incident whose window starts, peaks and ends `hours` after DAY."""
    start, peak, end = (DAY + timedelta(hours=h) for h in hours)
    return Incident(
        id=id_,
        kind=kind,
        scope_type="brand",
        brand=brand,
        scope_value=value,
        bucket="1h",
        window_start=start,
        window_end=end,
        peak_at=peak,
        observed=3.0,
        expected=1.0,
        score=4.0,
        severity=severity,
        status=status,
        reliable=True,
        created_at=DAY,
        updated_at=DAY,
    )


@pytest.fixture
def filled(store: Store) -> Store:
    upsert_mentions(store, [_mention(i, h, b, p, s, likes=n) for n, (i, h, b, p, s, _, _) in enumerate(ROWS)])
    scores = [
        {"source": s, "native_id": i, "score": sc, "label": lb, "model": "test", "model_version": "1", "text_hash": "-"}
        for i, _, _, _, s, sc, lb in ROWS
        if sc is not None
    ]
    flags = [
        {
            "source": "demo.weibo",
            "native_id": "x",
            "rating_conflict": None,
            "default_review": True,
            "duplicate_group": None,
            "duplicate_count": None,
            "excluded": True,
        }
    ]
    write_scores(store, scores, [], [], flags)
    save_incident(
        store,
        _incident("i-open", "negative", "声浪", "声浪", (1, 3, 4), "open", severity=4),
        [("demo.weibo", "c"), ("demo.jd", "b")],
    )
    save_incident(store, _incident("i-ack", "volume", "鲜到家", "鲜到家", (-30, -28, -26), "acknowledged"), [])
    save_incident(store, _incident("i-done", "negative", "声浪", "声浪X1耳机", (10, 11, 12), "resolved"), [])
    return store


def test_kpis_for_a_day_and_the_day_before(filled: Store) -> None:
    f = MentionFilter(start=DAY, end=DAY + timedelta(days=1))
    k = queries.kpis(filled, f)
    # a b c d e u (x is excluded): 6 mentions, 5 scored, 3 negative.
    assert (k.mentions, k.scored, k.negative) == (6, 5, 3)
    assert k.avg_score == pytest.approx((0.9 + 0.1 + 0.2 + 0.5 + 0.05) / 5)
    assert k.negative_share == pytest.approx(3 / 5)
    prev = queries.kpis(filled, f.previous())
    assert (prev.mentions, prev.scored, prev.negative) == (2, 2, 1)
    assert f.previous() == MentionFilter(start=DAY - timedelta(days=1), end=DAY)


def test_filters_by_brand_product_and_source(filled: Store) -> None:
    start, end = DAY - timedelta(days=2), DAY + timedelta(days=2)
    assert queries.kpis(filled, MentionFilter(start, end, brands=("鲜到家",))).mentions == 1
    assert queries.kpis(filled, MentionFilter(start, end, products=("声浪P20充电宝",))).mentions == 2
    assert queries.kpis(filled, MentionFilter(start, end, sources=("demo.jd",))).mentions == 2
    both = MentionFilter(start, end, brands=("声浪",), sources=("demo.weibo",))
    assert queries.kpis(filled, both).mentions == 6  # a c d f g u
    empty = queries.kpis(filled, MentionFilter(start, end, brands=("没有",)))
    assert (empty.mentions, empty.avg_score, empty.negative_share) == (0, None, None)


def test_volume_series_buckets_local_days_and_fills_gaps(filled: Store) -> None:
    # Beijing days 11-09 .. 11-12 are UTC [11-08 16:00, 11-12 16:00).
    f = MentionFilter(start=DAY - timedelta(hours=32), end=DAY + timedelta(hours=64))
    series = queries.volume_series(filled, f, timedelta(days=1), "Asia/Shanghai")
    days = [b.strftime("%m-%d") for b in series["bucket"]]
    assert days == ["11-09", "11-10", "11-11", "11-12"]
    # f, g are 11-09 04:00/05:00 Beijing; a b c d u 11-10; e 11-11 01:00 Beijing.
    assert series["mentions"].tolist() == [2, 5, 1, 0]
    assert series["negative"].tolist() == [1, 2, 1, 0]
    assert series["negative_share"].iloc[1] == pytest.approx(2 / 4)
    assert series["avg_score"].isna().tolist() == [False, False, False, True]


def test_volume_series_hourly(filled: Store) -> None:
    f = MentionFilter(start=DAY, end=DAY + timedelta(hours=6))
    series = queries.volume_series(filled, f, timedelta(hours=1), "UTC")
    assert len(series) == 6
    assert series["mentions"].tolist() == [0, 1, 1, 1, 1, 1]


def test_incident_queries(filled: Store) -> None:
    """The incidents a filter shows: windows in its period, of its brands, products and sources."""
    day = MentionFilter(DAY, DAY + timedelta(days=1))

    def ids(f: MentionFilter, statuses: tuple[str, ...] | None = None) -> list[str]:
        return [i.id for i in queries.filtered_incidents(filled, f, statuses)]

    assert ids(day) == ["i-open", "i-done"]  # unresolved first, then by tier
    assert ids(day, ("open", "acknowledged")) == ["i-open"]
    assert ids(MentionFilter(DAY - timedelta(days=2), DAY + timedelta(days=1))) == ["i-open", "i-ack", "i-done"]
    assert ids(replace(day, brands=("鲜到家",))) == []
    # i-open's driving mentions are of products X1 (b) and P20 (c); i-done has none
    assert ids(replace(day, products=("声浪X1耳机",))) == ["i-open"]
    assert ids(replace(day, products=("声浪P20充电宝",))) == ["i-open"]
    assert ids(replace(day, products=("声浪Pad平板",))) == []
    # a source filter keeps the incidents counted from that source
    assert ids(replace(day, sources=("nowhere",))) == []
    assert getattr(get_incident(filled, "i-open"), "status", None) == "open"
    assert get_incident(filled, "nope") is None


def test_latest_negative_newest_first_without_excluded(filled: Store) -> None:
    f = MentionFilter(start=DAY - timedelta(days=2), end=DAY + timedelta(days=2))
    frame = queries.latest_negative(filled, f, limit=3)
    assert frame["text"].tolist() == ["文本e", "文本c", "文本b"]
    assert "文本x" not in queries.latest_negative(filled, f, limit=50)["text"].tolist()


def test_review_summary(filled: Store) -> None:
    f = MentionFilter(start=DAY, end=DAY + timedelta(days=1), brands=("声浪",))
    summary = queries.review_summary(filled, f)
    rows = {(r.product, r.source): r for r in summary.itertuples()}
    x1_weibo = rows[("声浪X1耳机", "demo.weibo")]  # a, u (x excluded)
    assert (x1_weibo.mentions, x1_weibo.scored, x1_weibo.positive, x1_weibo.negative) == (2, 1, 1, 0)
    p20 = rows[("声浪P20充电宝", "demo.weibo")]  # c neg, d neu
    assert (p20.mentions, p20.negative, p20.neutral) == (2, 1, 1)
    assert p20.negative_share == pytest.approx(0.5)
    assert p20.reach == 2 + 3  # likes of c and d


def test_filter_options(filled: Store) -> None:
    options = queries.filter_options(filled)
    assert options["brands"] == ["声浪", "鲜到家"]
    assert options["products"]["声浪"] == ["声浪P20充电宝", "声浪X1耳机"]
    assert options["sources"] == ["demo.jd", "demo.weibo"]
    assert options["first"] == DAY - timedelta(hours=20)
    assert options["last"] == DAY + timedelta(hours=17)
