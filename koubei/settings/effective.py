"""The settings in force: koubei.toml with the settings saved in the database laid over it.

Every command reads them through AppContext.settings, the dashboard through
`load_effective_settings`, and `koubei watch` again at the start of every pass, so a
setting saved in the dashboard takes effect without a restart. Saving goes through
`save_checked`: the value is laid over the file with everything already saved and read
by the same models and checks as the file; what would not load is not saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from koubei.config import Settings, find_config, parse_settings, read_toml
from koubei.settings.saved import SettingPath, apply_saved, check_savable

if TYPE_CHECKING:  # duckdb only once there is a database to read (`koubei score --input` has none)
    from storage.db import LakeLocation
    from storage.settings import SavedSetting


@dataclass(frozen=True)
class Layers:
    """What the effective settings are made of: the file's tables, the saved ones, and the result."""

    raw: dict[str, Any]  # the file's tables as written
    saved: dict[SettingPath, SavedSetting]
    settings: Settings


def read_layers(config_path: Path | None = None, db: Path | None = None) -> Layers:
    path = find_config(config_path)
    raw = read_toml(path) if path else {}
    from_file = parse_settings(raw, path, db)
    saved = read_saved(from_file.location)
    if not saved:
        return Layers(raw, saved, from_file)
    values = {p: s.value for p, s in saved.items()}
    return Layers(raw, saved, _parse(raw, values, from_file))


def load_effective_settings(config_path: Path | None = None, db: Path | None = None) -> Settings:
    return read_layers(config_path, db).settings


def read_saved(location: Path | LakeLocation) -> dict[SettingPath, SavedSetting]:
    """The saved settings, none when there is no database file yet."""
    if isinstance(location, Path) and (str(location) == ":memory:" or not location.exists()):
        return {}
    from storage import open_store
    from storage.settings import saved_settings

    with open_store(location, read_only=True) as store:
        return saved_settings(store)


def save_checked(
    path: SettingPath, value: Any, changed_by: str, config_path: Path | None = None, db: Path | None = None
) -> bool:
    """Save `value` at `path` if the settings with it are valid (ConfigError otherwise, nothing saved);
    False when it was saved so already."""
    return bool(save_all_checked({path: value}, changed_by, config_path, db))


def save_all_checked(
    changes: dict[SettingPath, Any], changed_by: str, config_path: Path | None = None, db: Path | None = None
) -> int:
    """Save every value if the settings with all of them are valid, else nothing (ConfigError);
    how many changed."""
    for path, value in changes.items():
        check_savable(path, value)
    layers = read_layers(config_path, db)
    _parse(layers.raw, {p: s.value for p, s in layers.saved.items()} | changes, layers.settings)
    from storage import open_store
    from storage.settings import save_setting

    with open_store(layers.settings.location) as store:
        return sum(
            save_setting(store, path, value, changed_by, replaces=_at(layers.raw, path))
            for path, value in changes.items()
        )


def reset_saved(path: SettingPath, changed_by: str, config_path: Path | None = None, db: Path | None = None) -> bool:
    """The file's value in force again at `path`, if the settings are valid without the saved one."""
    layers = read_layers(config_path, db)
    values = {p: s.value for p, s in layers.saved.items() if p != path}
    _parse(layers.raw, values, layers.settings)
    from storage import open_store
    from storage.settings import reset_setting

    with open_store(layers.settings.location) as store:
        return reset_setting(store, path, changed_by)


def _parse(raw: dict[str, Any], saved: dict[SettingPath, Any], base: Settings) -> Settings:
    """The settings with the saved ones over the file; errors name both ("koubei.toml + database: [alerts] ...")."""
    merged = without_orphaned_names(apply_saved(raw, saved))
    return parse_settings(merged, base.path, base.db_override, f"{base.file} + database")


def without_orphaned_names(merged: dict[str, Any]) -> dict[str, Any]:
    """`merged` without the file's [sentiment.aspect_names] of aspects no brand has any more. The names
    are only ever the file's (they cannot be saved), checked there against the file's brands; when
    saved brands leave out the one whose aspect a name was for, the name would never show, and
    refusing the brands for it would make a brand impossible to delete in the dashboard."""
    from sentiment.aspects import builtin_aspects

    sentiment = merged.get("sentiment")
    if not isinstance(sentiment, dict) or not isinstance(names := sentiment.get("aspect_names"), dict):
        return merged
    known = {*builtin_aspects(), *_keys(sentiment.get("aspects"))}
    for brand in merged.get("brands") or ():
        known |= _keys(brand.get("aspects") if isinstance(brand, dict) else None)
    sentiment["aspect_names"] = {aspect: name for aspect, name in names.items() if aspect in known}
    return merged


def _keys(table: object) -> set[str]:
    return set(table) if isinstance(table, dict) else set()


def _at(raw: dict[str, Any], path: SettingPath) -> Any:
    """What the file holds at `path`, None when nothing."""
    value: Any = raw
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
