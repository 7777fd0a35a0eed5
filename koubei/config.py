"""koubei.toml: brands, sources, thresholds. Secrets come only from the environment.

Lookup order for the file: --config, $KOUBEI_CONFIG, ./koubei.toml, then the
repository's own koubei.toml. Lookup order for the database: --db, $KOUBEI_DB,
[storage] db in the file, data/koubei.duckdb.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from koubei.errors import ConfigError

DEFAULT_DB = Path("data/koubei.duckdb")
# The repository's own koubei.toml, so `koubei` works from any directory of a checkout.
REPO_CONFIG = Path(__file__).resolve().parent.parent / "koubei.toml"


@dataclass
class Settings:
    raw: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    db_override: Path | None = None

    @property
    def db_path(self) -> Path:
        if self.db_override is not None:
            return self.db_override
        if env := os.environ.get("KOUBEI_DB"):
            return Path(env)
        configured = self.raw.get("storage", {}).get("db")
        return Path(configured) if configured else DEFAULT_DB

    def section(self, name: str) -> dict[str, Any]:
        """A top-level table of the config, {} when absent."""
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path}: [{name}] must be a table")
        return value

    @property
    def brands(self) -> list[dict[str, Any]]:
        return list(self.raw.get("brands", []))

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        return self.section("sources")


def load_settings(config_path: Path | None = None, db: Path | None = None) -> Settings:
    candidates: list[Path] = []
    if config_path is not None:
        if not config_path.exists():
            raise ConfigError(f"config file not found: {config_path}")
        candidates.append(config_path)
    if env := os.environ.get("KOUBEI_CONFIG"):
        candidates.append(Path(env))
    candidates += [Path("koubei.toml"), REPO_CONFIG]
    for candidate in candidates:
        if candidate.exists():
            try:
                raw = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{candidate}: {exc}") from exc
            return Settings(raw=raw, path=candidate, db_override=db)
    return Settings(db_override=db)


def secret(name: str, required: bool = True) -> str | None:
    """Read a secret from the environment; config files only name the variable."""
    value = os.environ.get(name)
    if required and not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value
