"""The tables of koubei.toml besides [alerts] (alerts.py) and [sources.NAME] (each source's module).

Every default and every allowed range lives here, once; docs/configuration.md lists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

import msgspec

from koubei.settings.types import Table, Text, TimeZoneName
from querylang import QueryError, parse

Keywords = tuple[Text, ...]
Share = Annotated[float, msgspec.Meta(ge=0, le=1)]


class StorageTable(Table):
    """[storage]"""

    db: Text = "data/koubei.duckdb"  # the DuckDB file; --db and $KOUBEI_DB win over it
    backend: Literal["duckdb", "ducklake"] = "duckdb"  # ducklake: the catalog in PostgreSQL, data as Parquet
    catalog_env: Text = "KOUBEI_LAKE_CATALOG"  # the variable holding the catalog's libpq DSN (it may hold a password)
    data_path: Text = "data/lake/"  # the lake's Parquet folder, one every worker reaches


class Brand(Table):
    """One [[brands]] entry: the brand and what to look for."""

    name: Text
    keywords: Keywords = ()
    products: Keywords = ()
    aspects: dict[Text, Keywords] = {}  # extra aspect keywords for this brand: "续航" = ["续航", "待机"]
    # Watch queries (docs/queries.md): when set, what the brand or a product is about instead of its
    # name and keywords.
    query: Text | None = None
    product_queries: dict[Text, Text] = {}  # product (one of products) -> its query
    competitor_of: Text | None = None  # the name of one of your own brands this brand competes with
    market: Text | None = None  # brands sharing a market are compared with each other

    def __post_init__(self) -> None:
        check_query(f"brand {self.name} query", self.query)
        for product, query in self.product_queries.items():
            if product not in self.products:
                raise ValueError(f"brand {self.name} product_queries: {product!r} is not one of its products")
            check_query(f"brand {self.name} product {product} query", query)

    def watch_query(self) -> str:
        """The brand's query; without one, any of its name and keywords."""
        return self.query or any_of([self.name, *self.keywords])

    def product_query(self, product: str) -> str:
        return self.product_queries.get(product) or any_of([product])


class Topic(Table):
    """One [[topics]] entry: a theme to follow (发热, 物流), defined by a watch query. A mention is in
    every topic whose query matches it: tagged at ingest, re-applied by `koubei retag`."""

    name: Text
    query: Text

    def __post_init__(self) -> None:
        check_query(f"topic {self.name} query", self.query)


def check_topics(topics: tuple[Topic, ...]) -> None:
    """Each topic's name once: a mention's topics are stored by name."""
    names = [t.name for t in topics]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise ValueError(f"topics[{index}]: another topic is named {name!r}")


def any_of(words: Iterable[str]) -> str:
    """A query matching any of the words: keywords as a query."""
    return " OR ".join('"' + w.replace('"', "") + '"' for w in dict.fromkeys(words) if w.replace('"', ""))


def check_query(what: str, query: str | None) -> None:
    """A ValueError naming what the query is for, the column and a caret line."""
    if query is None:
        return
    try:
        parse(query)
    except QueryError as error:
        raise ValueError(f"{what}: {error.explain()}") from None


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


def check_aspect_names(sentiment: SentimentTable, brands: tuple[Brand, ...]) -> None:
    """Each aspect given names is a built-in one, one of [sentiment.aspects] or of a brand's `aspects`:
    a name for a misspelt aspect would never show."""
    from koubei.settings.errors import suggest
    from sentiment.aspects import builtin_aspects

    known = {*builtin_aspects(), *sentiment.aspects, *(a for b in brands for a in b.aspects)}
    for aspect in sentiment.aspect_names:
        if aspect not in known:
            raise ValueError(f"sentiment.aspect_names: {aspect!r} is no aspect{suggest(aspect, known)}")


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


class AspectNames(Table):
    """An aspect's display names by the dashboard's language (the aspect's own name is the Chinese one)."""

    en: Text | None = None  # the English pages' and reports' name: "battery" for 电池


class SentimentTable(Table):
    """[sentiment]"""

    # "builtin", "snownlp" or the name of a model trained by `koubei train --labels ... --name NAME`
    model: Text = "builtin"
    models_dir: Text = "data/models"  # where trained models are looked up
    # Scores in [low, high] are neutral; None: the model's own band (builtin 0.4-0.6, snownlp 0.35-0.65).
    neutral_band: tuple[Share, Share] | None = None
    english: bool = True  # English mentions are scored by VADER
    workers: Annotated[int, msgspec.Meta(ge=1, le=64, description="processes")] | None = None  # scoring processes
    # Mentions scored and stored per transaction by `koubei watch`, `run` and `score` (whose --batch-size
    # overrides it); a stop drops at most one batch's unstored analysis.
    score_batch: Annotated[int, msgspec.Meta(ge=1, le=1_000_000, description="mentions")] = 20_000
    # Near-duplicate / template reviews across accounts (刷单, copy-paste campaigns):
    duplicate_window_days: Annotated[float, msgspec.Meta(ge=0, le=3650, description="days; 0 means all")] = 30
    duplicate_min_accounts: Annotated[int, msgspec.Meta(ge=2, le=1000, description="distinct accounts")] = 3
    # Copies left out of scores and spikes; true and false mean "all" and "none".
    exclude_duplicates: Literal["positive", "all", "none"] | bool = "positive"
    datasets_dir: Text | None = None  # for `koubei eval sentiment`; None: ../shared/datasets/sentiment
    aspects: dict[Text, Keywords] = {}  # extra aspect keywords for every brand
    # Display names of aspects: "电池" = { en = "battery" }; a built-in aspect without one keeps its own.
    aspect_names: dict[Text, AspectNames] = {}

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
