"""koubei.toml: brands, sources, thresholds, typed and checked. Secrets come only from the environment.

Lookup order for the file: --config, $KOUBEI_CONFIG, ./koubei.toml, then the
repository's own koubei.toml. Lookup order for the database: --db, $KOUBEI_DB,
[storage] db in the file.

Every table is read into its model (koubei/settings/) when the file is loaded: an
unknown key, a wrong type or a value out of range is a ConfigError naming the
file, the table and the key. [sources.NAME] and [collect] are read by the options
each source module declares, when a command first asks for the sources: importing
every source costs about 0.3 s that `koubei score` or the dashboard need not pay.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from koubei.errors import ConfigError
from koubei.settings.alerts import AlertsTable
from koubei.settings.errors import convert, suggest
from koubei.settings.reports import ReportTable
from koubei.settings.sections import (
    Brand,
    DashboardTable,
    PrivacyTable,
    SentimentTable,
    StorageTable,
    Topic,
    check_aspect_names,
    check_competitors,
    check_topics,
)
from koubei.settings.types import Table, encode

if TYPE_CHECKING:
    from collectors.base import SourceConfig
    from storage.db import LakeLocation

LAKE_ADDRESS = "ducklake-address:"  # what a lake's address starts with (storage.db.LakeLocation.address)
# The repository's own koubei.toml, so `koubei` works from any directory of a checkout.
REPO_CONFIG = Path(__file__).resolve().parent.parent / "koubei.toml"


class ConfigFile(Table):
    """The tables of koubei.toml."""

    storage: StorageTable = msgspec.field(default_factory=StorageTable)
    brands: tuple[Brand, ...] = ()
    topics: tuple[Topic, ...] = ()  # themes defined by watch queries (docs/queries.md)
    collect: dict[str, Any] = {}  # defaults for every source's keys: read with the sources
    source_tables: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict, name="sources")
    dashboard: DashboardTable = msgspec.field(default_factory=DashboardTable)
    sentiment: SentimentTable = msgspec.field(default_factory=SentimentTable)
    alerts: AlertsTable = msgspec.field(default_factory=AlertsTable)
    reports: tuple[ReportTable, ...] = ()
    privacy: PrivacyTable = msgspec.field(default_factory=PrivacyTable)

    def __post_init__(self) -> None:
        check_competitors(self.brands)
        check_topics(self.topics)
        check_aspect_names(self.sentiment, self.brands)
        for index, report in enumerate(self.reports):
            for channel in report.channels:
                if channel not in self.alerts.channels:
                    hint = suggest(channel, self.alerts.channels)
                    raise ValueError(f"reports[{index}]: unknown channel {channel!r}{hint}")
        names = [r.name for r in self.reports]
        if len(names) != len(set(names)):
            raise ValueError(
                f"reports: two entries share a name: {sorted(n for n in names if names.count(n) > 1)[0]!r}"
            )


class Settings(ConfigFile, dict=True):
    """koubei.toml as read, where it was read from, and the --db given on the command line."""

    path: Path | None = None
    db_override: Path | None = None

    @property
    def file(self) -> str:
        """The file's name as errors show it."""
        return str(self.path) if self.path else "koubei.toml"

    @property
    def location(self) -> Path | LakeLocation:
        """Where the data lives: the DuckDB file, or the lake of `[storage] backend = "ducklake"`,
        or the lake whose address $KOUBEI_DB holds (`koubei dashboard` passes a lake so)."""
        given = os.environ.get("KOUBEI_DB", "")
        if given.startswith(LAKE_ADDRESS) and self.db_override in (None, Path(given)):
            from storage.db import LakeLocation  # duckdb only when there is a lake to open

            return LakeLocation.from_address(given)
        return self.db_path if self.storage.backend == "duckdb" else self.lake

    @property
    def lake(self) -> LakeLocation:
        """The lake that [storage] describes (catalog_env, data_path), whatever the backend."""
        from storage.db import LakeLocation

        dsn = os.environ.get(self.storage.catalog_env)
        if not dsn:
            raise ConfigError(
                f'{self.file}: [storage] backend = "ducklake" needs the catalog\'s PostgreSQL DSN in'
                f" ${self.storage.catalog_env} (catalog_env), e.g. 'host=db.internal dbname=koubei user=koubei'"
            )
        return LakeLocation(dsn, self.storage.data_path)

    @property
    def db_path(self) -> Path:
        if self.db_override is not None:
            return self.db_override
        if env := os.environ.get("KOUBEI_DB"):
            return Path(env)
        return Path(self.storage.db)

    @cached_property
    def sources(self) -> dict[str, SourceConfig]:
        """Every [sources.NAME] by name, read by the options of its kind (collectors/options.py)."""
        from collectors.options import parse_sources

        return parse_sources(self.source_tables, self.collect, self.file)

    def effective(self) -> dict[str, Any]:
        """Every table with its defaults filled in, as TOML would hold it (`koubei config check`)."""
        tables: dict[str, Any] = msgspec.to_builtins(ConfigFile(**_fields(self)), enc_hook=encode)
        tables["sources"] = {
            name: msgspec.to_builtins(config.options, enc_hook=encode) for name, config in self.sources.items()
        }
        effective: dict[str, Any] = _without_none(tables)
        return effective


def parse_settings(
    raw: dict[str, Any], path: Path | None = None, db: Path | None = None, source: str | None = None
) -> Settings:
    """Settings from the tables of a TOML file (or a dict written like one); errors name `source`
    (default: the file)."""
    tables = convert(raw, ConfigFile, source or (str(path) if path else "koubei.toml"))
    return Settings(**_fields(tables), path=path, db_override=db)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def find_config(config_path: Path | None = None) -> Path | None:
    """The file koubei reads: see the lookup order above; None when there is none."""
    if config_path is not None:
        if not config_path.exists():
            raise ConfigError(f"config file not found: {config_path}")
        return config_path
    candidates = [Path(env)] if (env := os.environ.get("KOUBEI_CONFIG")) else []
    return next((c for c in [*candidates, Path("koubei.toml"), REPO_CONFIG] if c.exists()), None)


def load_settings(config_path: Path | None = None, db: Path | None = None) -> Settings:
    path = find_config(config_path)
    if path is None:
        return Settings(db_override=db)
    return parse_settings(read_toml(path), path, db)


def secret(name: str, required: bool = True) -> str | None:
    """Read a secret from the environment; config files only name the variable."""
    value = os.environ.get(name)
    if required and not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _fields(tables: ConfigFile) -> dict[str, Any]:
    return {f.name: getattr(tables, f.name) for f in msgspec.structs.fields(ConfigFile)}


def _without_none(value: Any) -> Any:
    """TOML has no null: a key left unset is left out."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_without_none(v) for v in value]
    return value
