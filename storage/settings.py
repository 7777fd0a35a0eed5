"""Settings saved from the dashboard: the parts of koubei.toml a manager replaced, and their history.

A saved setting is one path of the file (["alerts", "rules", "negative-spike"], ["brands"])
and the value that replaces what the file holds there, as JSON. Every save or reset
appends to `settings_history` in the same transaction (who, when, old and new value);
the history is only ever added to. What may be saved, and whether it is valid, is
decided before this module is called (koubei/settings/saved.py): here values are data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storage.db import Store

SettingPath = tuple[str, ...]


@dataclass(frozen=True)
class SavedSetting:
    path: SettingPath
    value: Any
    changed_by: str
    changed_at: datetime  # naive UTC


@dataclass(frozen=True)
class SettingChange:
    id: int
    path: SettingPath
    old_value: Any  # the value in force before (the file's when none was saved); None: the file had none
    new_value: Any  # None: reset to the file's value
    changed_by: str
    changed_at: datetime  # naive UTC


def _path_key(path: SettingPath) -> str:
    return json.dumps(list(path), ensure_ascii=False)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loaded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def has_settings_table(store: Store) -> bool:
    """False on a database made before settings could be saved and opened read-only (not migrated)."""
    rows = store.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'settings_history'")
    return bool(rows[0][0])


def saved_settings(store: Store) -> dict[SettingPath, SavedSetting]:
    """Every saved setting by its path."""
    if not has_settings_table(store):
        return {}
    rows = store.query("SELECT path, value, changed_by, changed_at FROM settings ORDER BY path")
    saved = (SavedSetting(tuple(json.loads(p)), json.loads(v), by, at) for p, v, by, at in rows)
    return {s.path: s for s in saved}


def save_setting(store: Store, path: SettingPath, value: Any, changed_by: str, replaces: Any = None) -> bool:
    """Save `value` at `path` and append the change to the history; False when it was already saved so.
    `replaces`: the value in force while none is saved (the file's), recorded as the old value then."""
    return _change(store, path, value, changed_by, replaces)


def reset_setting(store: Store, path: SettingPath, changed_by: str) -> bool:
    """Drop the saved value at `path` (the file's is in force again); False when none was saved."""
    return _change(store, path, None, changed_by, None)


def _change(store: Store, path: SettingPath, value: Any, changed_by: str, replaces: Any) -> bool:
    key, now = _path_key(path), datetime.now(UTC).replace(tzinfo=None)
    with store.transaction() as con:
        row = con.execute("SELECT value FROM settings WHERE path = ?", [key]).fetchone()
        if row is None and value is None:
            return False  # nothing saved to reset
        if row is not None and json.loads(row[0]) == value:
            return False  # saved so already
        old = row[0] if row else _json(replaces)
        new = _json(value)
        if new is None:
            con.execute("DELETE FROM settings WHERE path = ?", [key])
        else:
            store.upsert(
                "settings",
                ["path"],
                "SELECT ?::VARCHAR AS path, ?::VARCHAR AS value, ?::VARCHAR AS changed_by, ?::TIMESTAMP AS changed_at",
                "value = excluded.value, changed_by = excluded.changed_by, changed_at = excluded.changed_at",
                [key, new, changed_by, now],
            )
        store.append_log(
            "settings_history",
            {"path": key, "old_value": old, "new_value": new, "changed_by": changed_by, "changed_at": now},
        )
    return True


def settings_history(store: Store, limit: int = 200) -> list[SettingChange]:
    """The latest changes, newest first."""
    if not has_settings_table(store):
        return []
    rows = store.query(
        "SELECT id, path, old_value, new_value, changed_by, changed_at FROM settings_history ORDER BY id DESC LIMIT ?",
        [limit],
    )
    return [
        SettingChange(i, tuple(json.loads(p)), _loaded(old), _loaded(new), by, at) for i, p, old, new, by, at in rows
    ]
