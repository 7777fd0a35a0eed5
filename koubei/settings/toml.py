"""Writing settings as TOML (the standard library reads TOML but does not write it)."""

from __future__ import annotations

import json
import re
from typing import Any


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def to_toml(data: dict[str, Any]) -> str:
    """A settings dict (tables, arrays of tables, scalars) as TOML text."""
    lines: list[str] = []

    def table(prefix: str, values: dict[str, Any]) -> None:
        scalars = {k: v for k, v in values.items() if not isinstance(v, dict) and not _is_table_array(v)}
        if prefix and (scalars or not values):
            lines.append(f"\n[{prefix}]")
        for key, value in scalars.items():
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
        for key, value in values.items():
            name = f"{prefix}.{toml_key(key)}" if prefix else toml_key(key)
            if isinstance(value, dict):
                table(name, value)
            elif _is_table_array(value):
                for entry in value:
                    lines.append(f"\n[[{name}]]")
                    for k, v in entry.items():
                        lines.append(f"{toml_key(k)} = {toml_value(v)}")

    table("", data)
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_table_array(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, dict) for v in value)
