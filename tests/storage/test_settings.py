"""Saved settings in the database: one value per path, and an append-only history of every change."""

from __future__ import annotations

from pathlib import Path

from storage import Store, open_store
from storage.settings import reset_setting, save_setting, saved_settings, settings_history

RULE = ("alerts", "rules", "negative-spike")


def test_a_saved_value_replaces_the_last_and_the_history_keeps_both(store: Store) -> None:
    assert save_setting(store, RULE, {"z_min": 5.0}, "alice")
    assert save_setting(store, RULE, {"z_min": 6.5}, "bob")
    assert saved_settings(store)[RULE].value == {"z_min": 6.5}
    assert saved_settings(store)[RULE].changed_by == "bob"
    history = settings_history(store)
    assert [(c.changed_by, c.old_value, c.new_value) for c in history] == [
        ("bob", {"z_min": 5.0}, {"z_min": 6.5}),
        ("alice", None, {"z_min": 5.0}),
    ]
    assert all(c.path == RULE for c in history) and history[0].changed_at >= history[1].changed_at


def test_saving_the_same_value_again_changes_nothing(store: Store) -> None:
    assert save_setting(store, ("brands",), [{"name": "声浪"}], "alice")
    assert not save_setting(store, ("brands",), [{"name": "声浪"}], "bob")
    assert [c.changed_by for c in settings_history(store)] == ["alice"]


def test_a_reset_drops_the_saved_value_and_is_itself_in_the_history(store: Store) -> None:
    save_setting(store, RULE, {"z_min": 5.0}, "alice")
    assert reset_setting(store, RULE, "carol")
    assert not reset_setting(store, RULE, "carol")  # nothing left to reset
    assert saved_settings(store) == {}
    latest = settings_history(store)[0]
    assert (latest.changed_by, latest.old_value, latest.new_value) == ("carol", {"z_min": 5.0}, None)


def test_a_failed_save_leaves_value_and_history_as_they_were(store: Store) -> None:
    save_setting(store, RULE, {"z_min": 5.0}, "alice")
    try:
        save_setting(store, RULE, {"z_min": object()}, "mallory")  # not JSON: fails inside the transaction
    except TypeError:
        pass
    assert saved_settings(store)[RULE].value == {"z_min": 5.0}
    assert len(settings_history(store)) == 1


def test_a_database_from_before_saved_settings_reads_as_none_saved(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with open_store(db) as store:
        store.con.execute("DROP TABLE settings_history; DROP TABLE settings")
    with open_store(db, read_only=True) as store:
        assert saved_settings(store) == {} and settings_history(store) == []


def test_the_first_save_records_the_files_value_as_the_old_one(store: Store) -> None:
    save_setting(store, RULE, {"z_min": 6.0}, "alice", replaces={"z_min": 4.0})
    save_setting(store, RULE, {"z_min": 7.0}, "bob", replaces={"z_min": 4.0})  # a saved value is what it replaces
    history = settings_history(store)
    assert [(c.old_value, c.new_value) for c in history] == [
        ({"z_min": 6.0}, {"z_min": 7.0}),
        ({"z_min": 4.0}, {"z_min": 6.0}),
    ]
