"""`koubei migrate --to ducklake` (storage/lake_copy.py): every table of a single-file
database arrives in the lake, row for row, and the copy can be run again."""

from __future__ import annotations

from pathlib import Path

from storage.db import LakeLocation
from tests.lake.conftest import lake_config, run_koubei, table_rows


def test_migrate_copies_every_table_of_a_file_into_the_lake(tmp_path: Path, lake: LakeLocation) -> None:
    file = tmp_path / "koubei.duckdb"
    file_toml = tmp_path / "file" / "koubei.toml"
    file_toml.parent.mkdir()
    file_toml.write_text(lake_config(tmp_path, lake).read_text().replace('backend = "ducklake"', ""), encoding="utf-8")
    filled = run_koubei(file_toml, lake, "--db", str(file), "run", "--no-alerts")
    assert filled.returncode == 0, filled.stderr
    lake_toml = lake_config(tmp_path, lake)
    for _ in range(2):  # again: replaces, never adds
        moved = run_koubei(lake_toml, lake, "--db", str(file), "migrate", "--to", "ducklake")
        assert moved.returncode == 0, moved.stderr
        assert "mentions:" in moved.stdout and "same in the lake" in moved.stdout
    original, copy = table_rows(file), table_rows(lake)
    assert original["mentions"] and original["sentiment"]
    assert original == copy
