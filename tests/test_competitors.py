"""Competitors in koubei.toml (`competitor_of`, `market`): checked on load, grouped for the
overview's comparison (dashboard/compare.py), and seeded by the demo without changing its brands."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pandas as pd
import pytest

from collectors.options import parse_source
from collectors.sources.demo import DemoCollector
from dashboard.compare import Group, brand_totals, comparison_groups, first_group
from koubei.config import REPO_CONFIG, parse_settings, read_toml
from koubei.errors import ConfigError
from storage.incidents import Incident

OWN = [{"name": "声浪"}, {"name": "鲜到家"}]


def brands(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [*OWN, *extra]


def test_the_repository_config_marks_the_demo_competitors() -> None:
    settings = parse_settings(read_toml(REPO_CONFIG), REPO_CONFIG)
    groups = comparison_groups(settings.brands)
    assert [(g.brand, g.members) for g in groups] == [("声浪", ("声浪", "律动")), ("鲜到家", ("鲜到家", "邻鲜"))]


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (
            {"name": "律动", "competitor_of": "声滚"},
            "brands[2]: competitor_of = '声滚': no brand is named '声滚' (valid: 声浪, 鲜到家)",
        ),
        (
            {"name": "律动", "competitor_of": "律动"},
            "brands[2]: competitor_of = '律动': a brand cannot be its own competitor",
        ),
        ({"name": "律动", "competitor_of": ""}, 'competitor_of = "": expected'),
        ({"name": "律动", "market": 3}, "market = 3: expected"),
        ({"name": "律动", "competitor": "声浪"}, "unknown key 'competitor' (did you mean 'competitor_of'?)"),
    ],
)
def test_a_bad_competitor_is_a_config_error_naming_the_entry(entry: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"brands": brands(entry)})
    assert error in str(caught.value)
    assert str(caught.value).startswith("koubei.toml:")


def test_a_competitor_of_a_competitor_is_refused() -> None:
    rival = {"name": "律动", "competitor_of": "声浪"}
    with pytest.raises(ConfigError, match=r"brands\[3\]: competitor_of = '律动': '律动' is itself a competitor"):
        parse_settings({"brands": brands(rival, {"name": "小律", "competitor_of": "律动"})})


def test_groups_from_competitors_and_markets() -> None:
    settings = parse_settings(
        {
            "brands": [
                {"name": "声浪", "market": "耳机"},
                {"name": "鲜到家"},
                {"name": "律动", "competitor_of": "声浪"},
                {"name": "音悦", "market": "耳机"},
                {"name": "独行"},
            ]
        }
    )
    groups = comparison_groups(settings.brands)
    # 音悦 is an own brand of the same market: it has its own comparison, with 声浪.
    assert groups == [Group("声浪", ("声浪", "律动", "音悦")), Group("音悦", ("音悦", "声浪"))]
    assert first_group(groups, ("律动",)).brand == "声浪"
    assert first_group(groups, ("鲜到家", "音悦")).brand == "音悦"
    assert first_group(groups, ()).brand == "声浪"


def test_brand_totals_over_channels() -> None:
    channels = pd.DataFrame(
        [
            ("demo.jd", "声浪", 3, 2, 1, 1),
            ("demo.weibo", "声浪", 1, 1, 0, 1),
            ("demo.weibo", "律动", 4, 0, 0, 0),
        ],
        columns=["source", "brand", "mentions", "scored", "positive", "negative"],
    )
    day = datetime(2026, 11, 10)
    crisis = Incident(
        id="i", kind="negative", scope_type="brand", brand="律动", scope_value="律动", bucket="1h",
        window_start=day, window_end=day, peak_at=day, observed=1.0, expected=1.0, score=1.0, severity=3,
        status="open", reliable=True, created_at=day, updated_at=day,
    )  # fmt: skip
    totals = brand_totals(channels, ("声浪", "律动", "无声"), [crisis]).set_index("brand")
    assert list(totals["mentions"]) == [4, 4, 0]
    assert list(totals["share_of_voice"]) == [0.5, 0.5, 0.0]
    assert totals.loc["声浪", "net_sentiment"] == pytest.approx((1 - 2) / 3)
    assert totals.loc["声浪", "negative_share"] == pytest.approx(2 / 3)
    assert pd.isna(totals.loc["律动", "net_sentiment"]), "nothing scored: no sentiment"
    assert list(totals["incidents"]) == [0, 1, 0]


END = "2026-11-20T12:00:00+08:00"


def demo_mentions(**options: object) -> list:
    collector = DemoCollector(parse_source("demo", {"end": END, "days": 7, "rate": 10, **options}))
    return [m for page in collector.pages() for m in page.mentions]


def test_demo_competitors_leave_the_demo_brands_stream_as_it_was() -> None:
    alone = demo_mentions()
    together = demo_mentions(competitors=True)
    own = [m for m in together if m.brand in ("声浪", "鲜到家")]
    assert [(m.source, m.native_id, m.text, m.published_at) for m in own] == [
        (m.source, m.native_id, m.text, m.published_at) for m in alone
    ]
    assert {m.brand for m in together} == {"声浪", "鲜到家", "律动", "邻鲜"}


def test_each_demo_competitor_has_its_own_story_on_other_days() -> None:
    mentions = demo_mentions(competitors=True)

    def peak_day(brand: str, episode: str) -> datetime:
        hours = Counter(m.published_at.date() for m in mentions if m.brand == brand and m.raw["episode"] == episode)
        return hours.most_common(1)[0][0]

    crisis, service, spoiled = peak_day("声浪", "crisis"), peak_day("律动", "service"), peak_day("邻鲜", "spoiled")
    assert len({crisis, service, spoiled}) == 3
    stories = Counter((m.brand, m.raw["episode"]) for m in mentions if m.raw["episode"] != "o")
    assert stories[("律动", "service")] > 50 and stories[("邻鲜", "spoiled")] > 30
    service_texts = [m.text for m in mentions if m.raw["episode"] == "service" and m.language == "zh"]
    assert all(any(w in t for w in ("售后", "客服", "退款", "返修", "保修")) for t in service_texts)
    assert max(m.published_at for m in mentions) <= datetime.fromisoformat(END)
