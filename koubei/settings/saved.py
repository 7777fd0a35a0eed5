"""Settings saved in the database over koubei.toml: what may be saved, how it is laid over the file,
and where each effective value came from.

The file is the starting point; a saved setting replaces one part of it, named by its path:
a brand list, a rule, a channel, the routes. The result is read by the very same models and
checks as the file (koubei/config.py's parse_settings), so a value that the file would refuse
cannot be saved either. Secrets stay out of the database: a channel names the environment
variables that hold its URL and secret (`*_env`), never the URL itself.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from koubei.errors import ConfigError
from koubei.settings.errors import key_text
from koubei.settings.toml import toml_key

SettingPath = tuple[str, ...]
Origin = Literal["file", "database", "default"]

# The parts of koubei.toml a manager may replace: whole arrays of tables, or one named table.
WHOLE = {("brands",), ("topics",), ("alerts", "routes"), ("alerts", "keyword_groups"), ("alerts", "severity")}
NAMED = {("alerts", "rules"), ("alerts", "channels")}
SECRET_KEYS = {"url"}  # a channel's URL may carry its token: only url_env (a variable's name) is saved


def path_text(path: SettingPath) -> str:
    """["alerts", "rules", "negative-spike"] -> alerts.rules.negative-spike"""
    return ".".join(toml_key(key) for key in path)


def check_savable(path: SettingPath, value: Any) -> None:
    """A ConfigError unless `value` may be saved at `path` (what the dashboard edits, and no secret)."""
    if path not in WHOLE and not (len(path) == 3 and path[:2] in NAMED):
        raise ConfigError(f"{path_text(path)}: not a setting that can be saved in the database")
    if path[:2] == ("alerts", "channels") and isinstance(value, dict) and (found := SECRET_KEYS & value.keys()):
        raise ConfigError(
            f"{path_text(path)}: {sorted(found)[0]} cannot be saved in the database: "
            "name the environment variable that holds it (url_env), and set that variable where koubei runs"
        )


def apply_saved(raw: Mapping[str, Any], saved: Mapping[SettingPath, Any]) -> dict[str, Any]:
    """The file's tables with each saved value in place of what the file holds at its path."""
    merged: dict[str, Any] = copy.deepcopy(dict(raw))
    for path, value in saved.items():
        table = merged
        for key in path[:-1]:
            table = table.setdefault(key, {})
        table[path[-1]] = copy.deepcopy(value)
    return merged


def origins(
    effective: Mapping[str, Any], raw: Mapping[str, Any], saved: Mapping[SettingPath, Any]
) -> Iterator[tuple[str, Any, Origin]]:
    """(key, value, where it came from) for every value of the effective settings, in order."""
    for keys, value in _leaves(effective, ()):
        under = next((path for path in saved if keys[: len(path)] == path), None)
        if under is not None:  # a saved table replaces the file's: what it leaves out is the default
            origin: Origin = "database" if _has(saved[under], keys[len(under) :]) else "default"
        elif _has(raw, keys):
            origin = "file"
        else:
            origin = "default"
        yield key_text(keys), value, origin


def _leaves(value: Any, keys: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _leaves(child, (*keys, key))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, child in enumerate(value):
            yield from _leaves(child, (*keys, index))
    else:
        yield keys, value


def _has(raw: Any, keys: tuple[str | int, ...]) -> bool:
    for key in keys:
        if isinstance(raw, dict) and isinstance(key, str) and key in raw:
            raw = raw[key]
        elif isinstance(raw, list) and isinstance(key, int) and key < len(raw):
            raw = raw[key]
        else:
            return False
    return True
