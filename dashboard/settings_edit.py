"""Editing settings on the Settings page (规则设置): tables as rows, rules as thresholds, changes in words.

The page shows what is in force (koubei.toml with the saved settings over it) and saves
through koubei.settings.effective.save_checked, which checks a value exactly as a file
would be checked and saves nothing when it fails. Brands, routes and channels are edited
as rows (list keys as comma-separated words); keys a row cannot show (a brand's aspects
table) are kept from the entry of the same name. A channel's `url` is never shown nor
saved: channels name the environment variables holding their URL and secret.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from msgspec import inspect as mi

from alerts.config import Rule
from dashboard import auth
from koubei.settings.effective import Layers, read_layers, save_all_checked
from koubei.settings.saved import SECRET_KEYS, SettingPath, apply_saved
from storage.settings import SettingChange

Cell = Literal["list", "int", "float", "bool", "text"]
SPLIT = re.compile(r"[,，、;；]")


def can_change_settings() -> bool:
    """Whether the person at the dashboard may change settings: admins once sign-in is configured,
    without it the one local person."""
    return auth.allowed("settings")


def current_tables(db: Path | None) -> tuple[Layers, dict[str, Any]]:
    """The settings' layers and the tables in force as written (the file's with the saved ones over them)."""
    layers = read_layers(db=db)
    return layers, apply_saved(layers.raw, {p: s.value for p, s in layers.saved.items()})


def cell_kinds(table: type) -> dict[str, Cell]:
    """The keys of a table that fit in a cell, by the kind of cell; tables inside it (a brand's aspects) do not."""
    kinds: dict[str, Cell] = {}
    info = mi.type_info(table)
    assert isinstance(info, mi.StructType)
    for field in info.fields:
        types = [_plain(t) for t in (field.type.types if isinstance(field.type, mi.UnionType) else [field.type])]
        types = [t for t in types if not isinstance(t, mi.NoneType)]
        if any(isinstance(t, (mi.ListType, mi.VarTupleType)) for t in types):
            kinds[field.encode_name] = "list"
        elif any(isinstance(t, (mi.DictType, mi.StructType, mi.TupleType)) for t in types):
            continue
        elif isinstance(types[0], mi.IntType):
            kinds[field.encode_name] = "int"
        elif isinstance(types[0], mi.FloatType):
            kinds[field.encode_name] = "float"
        elif isinstance(types[0], mi.BoolType):
            kinds[field.encode_name] = "bool"
        else:
            kinds[field.encode_name] = "text"
    return {k: v for k, v in kinds.items() if k not in SECRET_KEYS}


def _plain(node: mi.Type) -> mi.Type:
    return node.type if isinstance(node, mi.Metadata) else node


def to_rows(entries: Iterable[dict[str, Any]], kinds: dict[str, Cell]) -> pd.DataFrame:
    """Entries as rows: a list as "a, b", a missing key as an empty cell."""
    rows = [{key: _cell(entry.get(key), kind) for key, kind in kinds.items()} for entry in entries]
    return pd.DataFrame(rows, columns=list(kinds))


def _cell(value: Any, kind: Cell) -> Any:
    if value is None:
        return None
    if kind == "list":
        return ", ".join(str(v) for v in ([value] if isinstance(value, str) else value))
    return value


def from_rows(
    frame: pd.DataFrame, kinds: dict[str, Cell], before: dict[str, dict[str, Any]], key: str = "name"
) -> list[dict[str, Any]]:
    """Rows back as entries; keys a row cannot show come from the entry of the same `key` in `before`."""
    entries = []
    for row in frame.to_dict("records"):
        entry = {k: v for k, v in ((k, _value(row.get(k), kind)) for k, kind in kinds.items()) if v is not None}
        if not entry:
            continue  # a row added and left empty
        kept = before.get(str(entry.get(key)), {})
        entries.append({**{k: v for k, v in kept.items() if k not in kinds and k not in SECRET_KEYS}, **entry})
    return entries


def _value(cell: Any, kind: Cell) -> Any:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    if kind == "list":
        words = [w.strip() for w in SPLIT.split(str(cell))]
        return [w for w in words if w] or None
    if kind == "text":
        return str(cell).strip() or None
    if kind == "int" and isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return _python(cell)


def thresholds_of(rule: Rule) -> dict[str, Any]:
    """The thresholds of a rule's detector, resolved."""
    return asdict(rule.volume if rule.kind == "volume" else rule.negative)


def rule_value(tables: dict[str, Any], rule: Rule, edited: dict[str, Any]) -> dict[str, Any]:
    """The [alerts.rules.NAME] table to save: the one in force with the thresholds that differ from the rule's."""
    table = dict(tables.get("alerts", {}).get("rules", {}).get(rule.name, {}))
    resolved = thresholds_of(rule)
    changed = {k: _python(v) for k, v in edited.items() if not _same(v, resolved.get(k))}
    return {**table, **changed}


def _same(value: Any, resolved: Any) -> bool:
    """A list from the form and the rule's tuple alike."""
    if isinstance(value, (list, tuple)) and isinstance(resolved, (list, tuple)):
        return list(value) == list(resolved)
    return bool(value == resolved)


def _python(value: Any) -> Any:
    """A numpy scalar (from a widget or a frame) as the Python value JSON can hold."""
    return value.item() if hasattr(value, "item") else value


def save(changes: dict[SettingPath, Any], changed_by: str, db: Path | None) -> int:
    """Save all of `changes` or, when the settings with them would not load, none (ConfigError)."""
    return save_all_checked(changes, changed_by.strip() or "dashboard", db=db)


def change_words(change: SettingChange) -> str:
    """What a change did, key by key where both values are tables: "z_min: 4.0 → 6.5"."""
    old, new = change.old_value, change.new_value
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(old.keys() | new.keys())
        parts = [f"{k}: {_short(old.get(k))} → {_short(new.get(k))}" for k in keys if old.get(k) != new.get(k)]
        return "; ".join(parts)
    return f"{_short(old)} → {_short(new)}"


def _short(value: Any, most: int = 160) -> str:
    if value is None:
        return "koubei.toml"  # reset: the file's value is in force again
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= most else text[: most - 1] + "…"
