"""A koubei.toml on a fresh lake, for the worker and migration tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest

from storage import open_store
from storage.db import LakeLocation

KOUBEI = str(Path(sys.executable).with_name("koubei"))
CATALOG_ENV = "KOUBEI_TEST_LAKE_CATALOG"


def lake_config(folder: Path, lake: LakeLocation, days: float = 1, rate: float = 3, interval: str = "1h") -> Path:
    """A koubei.toml whose storage is `lake` and whose one source is the demo stream."""
    path = folder / "koubei.toml"
    path.write_text(
        "[storage]\n"
        'backend = "ducklake"\n'
        f'catalog_env = "{CATALOG_ENV}"\n'
        f'data_path = "{lake.data_path}"\n\n'
        "[sources.demo]\n"
        f"days = {days}\nrate = {rate}\nseed = 7\n"
        f'interval = "{interval}"\n',
        encoding="utf-8",
    )
    return path


def koubei_env(lake: LakeLocation) -> dict[str, str]:
    return {**os.environ, CATALOG_ENV: lake.catalog_dsn}


def run_koubei(config: Path, lake: LakeLocation, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KOUBEI, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=koubei_env(lake),
    )


def table_rows(where: Path | LakeLocation) -> dict[str, list[str]]:
    """Every table's rows (but the migrations' record), sorted, as text: equal when the contents are."""
    with open_store(where, read_only=True) as store:
        names = [
            str(n)
            for (n,) in store.query(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
                " AND table_name <> 'schema_migrations'"
            )
        ]
        return {name: sorted(str(row) for row in store.query(f"SELECT * FROM {name}")) for name in names}


def run_to_the_end(processes: Sequence[BaseProcess], timeout: float) -> None:
    """Start every process, wait for each; every one must exit 0."""
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=timeout)
    assert [process.exitcode for process in processes] == [0] * len(processes)


@pytest.fixture
def lake_toml(tmp_path: Path, lake: LakeLocation) -> Path:
    return lake_config(tmp_path, lake)
