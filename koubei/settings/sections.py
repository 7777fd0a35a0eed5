"""The tables of koubei.toml besides [alerts] (alerts.py) and [sources.NAME] (each source's module).

Every default and every allowed range lives here, once; docs/configuration.md lists them.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from koubei.settings.types import Table, Text, TimeZoneName

Keywords = tuple[Text, ...]
Share = Annotated[float, msgspec.Meta(ge=0, le=1)]


class StorageTable(Table):
    """[storage]"""

    db: Text = "data/koubei.duckdb"  # the DuckDB file; --db and $KOUBEI_DB win over it


class Brand(Table):
    """One [[brands]] entry: the brand and what to look for."""

    name: Text
    keywords: Keywords = ()
    products: Keywords = ()
    aspects: dict[Text, Keywords] = {}  # extra aspect keywords for this brand: "续航" = ["续航", "待机"]
    competitor_of: Text | None = None  # the name of one of your own brands this brand competes with
    market: Text | None = None  # brands sharing a market are compared with each other


def check_competitors(brands: tuple[Brand, ...]) -> None:
    """Each competitor_of names another configured brand that is not itself a competitor
    (the overview compares an own brand with its competitors: docs/configuration.md)."""
    from koubei.settings.errors import suggest

    names = {b.name for b in brands}
    own = {b.name for b in brands if b.competitor_of is None}
    for index, brand in enumerate(brands):
        rival_of = brand.competitor_of
        if rival_of is None or rival_of in own:
            continue
        if rival_of == brand.name:
            problem = "a brand cannot be its own competitor"
        elif rival_of in names:
            problem = f"{rival_of!r} is itself a competitor; name one of your own brands{suggest(rival_of, own)}"
        else:
            problem = f"no brand is named {rival_of!r}{suggest(rival_of, own)}"
        raise ValueError(f"brands[{index}]: competitor_of = {rival_of!r}: {problem}")


class DashboardTable(Table):
    """[dashboard]"""

    refresh_seconds: Annotated[int, msgspec.Meta(ge=5, le=3600, description="seconds")] = 30
    # The one clock of every page and export: times are stored in UTC and shown in this zone.
    timezone: TimeZoneName = TimeZoneName("Asia/Shanghai")


RetentionDays = Annotated[float, msgspec.Meta(gt=0, le=36500, description="days")]


class PrivacyTable(Table):
    """[privacy]: retention, purged by `koubei watch` at its start and then daily (koubei/retention.py)."""

    mention_retention_days: RetentionDays | None = None  # erase mentions published longer ago; None keeps them
    raw_retention_days: RetentionDays | None = None  # drop raw payloads of mentions collected longer ago

    @property
    def retains_everything(self) -> bool:
        return self.mention_retention_days is None and self.raw_retention_days is None


class SentimentTable(Table):
    """[sentiment]"""

    # "builtin", "snownlp" or the name of a model trained by `koubei train --labels ... --name NAME`
    model: Text = "builtin"
    models_dir: Text = "data/models"  # where trained models are looked up
    # Scores in [low, high] are neutral; None: the model's own band (builtin 0.4-0.6, snownlp 0.35-0.65).
    neutral_band: tuple[Share, Share] | None = None
    english: bool = True  # English mentions are scored by VADER
    workers: Annotated[int, msgspec.Meta(ge=1, le=64, description="processes")] | None = None  # scoring processes
    # Near-duplicate / template reviews across accounts (刷单, copy-paste campaigns):
    duplicate_window_days: Annotated[float, msgspec.Meta(ge=0, le=3650, description="days; 0 means all")] = 30
    duplicate_min_accounts: Annotated[int, msgspec.Meta(ge=2, le=1000, description="distinct accounts")] = 3
    # Copies left out of scores and spikes; true and false mean "all" and "none".
    exclude_duplicates: Literal["positive", "all", "none"] | bool = "positive"
    datasets_dir: Text | None = None  # for `koubei eval sentiment`; None: ../shared/datasets/sentiment
    aspects: dict[Text, Keywords] = {}  # extra aspect keywords for every brand

    def __post_init__(self) -> None:
        if self.neutral_band is not None and self.neutral_band[0] > self.neutral_band[1]:
            low, high = self.neutral_band
            raise ValueError(f"neutral_band = [{low}, {high}]: expected [low, high] with low <= high")

    @property
    def exclude_mode(self) -> Literal["positive", "all", "none"]:
        if self.exclude_duplicates is True:
            return "all"
        if self.exclude_duplicates is False:
            return "none"
        return self.exclude_duplicates
