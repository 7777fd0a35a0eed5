"""The Settings page's tables as rows and back: lists as words, keys a row cannot show kept, no URL."""

from __future__ import annotations

from typing import Any

from dashboard.settings_edit import cell_kinds, from_rows, to_rows
from koubei.settings.alerts import ChannelTable, RouteTable
from koubei.settings.sections import Brand

BRANDS: list[dict[str, Any]] = [
    {"name": "声浪", "keywords": ["声浪", "SonicWave"], "products": ["声浪X1耳机"], "aspects": {"续航": ["续航"]}},
    {"name": "鲜到家", "keywords": ["鲜到家"]},
]


def test_brands_come_back_as_they_were_with_the_aspects_a_row_cannot_show() -> None:
    kinds = cell_kinds(Brand)
    assert "aspects" not in kinds and kinds["keywords"] == "list"
    rows = to_rows(BRANDS, kinds)
    assert rows.loc[0, "keywords"] == "声浪, SonicWave"
    rows.loc[1, "products"] = "鲜到家生鲜配送，鲜到家会员卡"  # a Chinese comma separates too
    back = from_rows(rows, kinds, {b["name"]: b for b in BRANDS})
    assert back[0] == BRANDS[0]
    assert back[1] == {"name": "鲜到家", "keywords": ["鲜到家"], "products": ["鲜到家生鲜配送", "鲜到家会员卡"]}


def test_route_numbers_stay_whole_and_empty_cells_are_left_out() -> None:
    kinds = cell_kinds(RouteTable)
    rows = to_rows(
        [{"channels": ["ops"], "min_tier": 3}, {"channels": ["a", "b"], "quiet_hours": "22:00-08:00"}], kinds
    )
    back = from_rows(rows, kinds, {})
    assert back == [{"channels": ["ops"], "min_tier": 3}, {"channels": ["a", "b"], "quiet_hours": "22:00-08:00"}]
    assert isinstance(back[0]["min_tier"], int)


def test_a_channels_url_is_never_a_cell_nor_carried_into_what_is_saved() -> None:
    kinds = {"name": "text", **cell_kinds(ChannelTable)}
    assert "url" not in kinds and "url_env" in kinds and "from" in kinds
    before = {"local": {"name": "local", "type": "webhook", "url": "http://127.0.0.1:9/T0K3N"}}
    back = from_rows(to_rows(before.values(), kinds), kinds, before)
    assert back == [{"name": "local", "type": "webhook"}]
