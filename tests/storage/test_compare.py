"""storage/compare.py on a small hand-made database with known answers (rows through the real writers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from koubei.records import Mention
from storage import Store, upsert_mentions
from storage.compare import brand_incidents, brand_series, channel_shares
from storage.incidents import Incident, save_incident
from storage.queries import MentionFilter
from storage.sentiment import write_scores

DAY = datetime(2026, 11, 10)  # naive UTC, as stored
# (id, hours after DAY, brand, source, label); the second day has only 声浪's mention "f"
ROWS = [
    ("a", 1, "声浪", "demo.weibo", "pos"),
    ("b", 2, "声浪", "demo.weibo", "neg"),
    ("c", 3, "声浪", "demo.jd", "pos"),
    ("d", 4, "律动", "demo.weibo", "neg"),
    ("e", 5, "鲜到家", "demo.weibo", "neg"),  # not compared
    ("f", 30, "声浪", "demo.jd", None),  # not scored yet
]
FILTER = MentionFilter(DAY, DAY + timedelta(days=2), brands=("声浪", "律动"))


def incident(id_: str, brand: str, kind: str = "negative") -> Incident:
    return Incident(
        id=id_,
        kind=kind,
        scope_type="brand" if kind != "source_down" else "source",
        brand=brand,
        scope_value=brand,
        bucket="1h",
        window_start=DAY,
        window_end=DAY + timedelta(hours=3),
        peak_at=DAY + timedelta(hours=2),
        observed=3.0,
        expected=1.0,
        score=4.0,
        severity=3,
        status="open",
        reliable=True,
        created_at=DAY,
        updated_at=DAY,
    )


@pytest.fixture
def filled(store: Store) -> Store:
    upsert_mentions(
        store,
        [
            Mention(
                source=source,
                native_id=i,
                text=f"文本{i}",
                published_at=(DAY + timedelta(hours=h)).replace(tzinfo=UTC),
                brand=brand,
            )
            for i, h, brand, source, _ in ROWS
        ],
    )
    scores = [
        {"source": s, "native_id": i, "score": 0.5, "label": lb, "model": "t", "model_version": "1", "text_hash": "-"}
        for i, _, _, s, lb in ROWS
        if lb is not None
    ]
    write_scores(store, scores, [], [], [])
    return store


def test_share_of_voice_net_sentiment_and_negative_share_per_day(filled: Store) -> None:
    series = brand_series(filled, FILTER, timedelta(days=1))
    rows = {(r.bucket.day, r.brand): r for r in series.itertuples()}
    assert len(rows) == 4, "every day has a row for every compared brand, gaps as zero"
    first, rival = rows[(10, "声浪")], rows[(10, "律动")]
    assert (first.mentions, rival.mentions) == (3, 1)
    assert first.share_of_voice == pytest.approx(0.75) and rival.share_of_voice == pytest.approx(0.25)
    assert first.net_sentiment == pytest.approx((2 - 1) / 3) and rival.net_sentiment == pytest.approx(-1.0)
    assert first.negative_share == pytest.approx(1 / 3) and rival.negative_share == pytest.approx(1.0)
    # The next day: 声浪 has the only (unscored) mention, 律动 none.
    assert rows[(11, "声浪")].share_of_voice == 1.0 and rows[(11, "律动")].mentions == 0
    assert pd.isna(rows[(11, "声浪")].net_sentiment), "nothing scored: no sentiment, not 0"


def test_share_of_voice_per_channel(filled: Store) -> None:
    channels = channel_shares(filled, FILTER)
    shares = {(r.source, r.brand): r.share_of_voice for r in channels.itertuples()}
    assert shares == {
        ("demo.jd", "声浪"): pytest.approx(1.0),
        ("demo.weibo", "声浪"): pytest.approx(2 / 3),
        ("demo.weibo", "律动"): pytest.approx(1 / 3),
    }


def test_incidents_of_the_compared_brands_only(filled: Store) -> None:
    for made in (incident("mine", "声浪"), incident("rival", "律动"), incident("other", "鲜到家")):
        save_incident(filled, made, [])
    save_incident(filled, incident("down", "声浪", kind="source_down"), [])
    assert sorted(i.id for i in brand_incidents(filled, FILTER)) == ["mine", "rival"]
