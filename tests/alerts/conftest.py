"""Fixtures for alerts tests: a demo database with labels, built once and copied per test."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from collectors.options import parse_source
from collectors.runner import run_collector
from collectors.sources.demo import DemoCollector
from koubei.config import REPO_CONFIG, Settings, parse_settings, read_toml
from storage import Store, open_store
from storage.sentiment import write_scores
from tests.conftest import built_once

DEMO_END = "2026-11-23T12:00:00+00:00"
DEMO_NOW = datetime(2026, 11, 23, 12, 0)


def put_labels(store: Store, rows: list[tuple[str, str, str]]) -> None:
    """Sentiment labels (source, native_id, label) written as scores of a "test" model, for
    tests where the scorer is not the thing under test."""
    score = {"pos": 0.9, "neu": 0.5, "neg": 0.1}
    model = {"model": "test", "model_version": "0", "text_hash": ""}
    write_scores(
        store,
        [{"source": s, "native_id": n, "score": score[lab], "label": lab, **model} for s, n, lab in rows],
        [],
        [],
        [],
    )


def build_demo_template(path: Path) -> None:
    result = run_collector(
        DemoCollector(parse_source("demo", {"days": 21, "seed": 7, "end": DEMO_END})), lambda: open_store(path)
    )
    assert result.ok, result.error
    # Labels from the generator's own ground truth (raw.mood), so these tests measure
    # detection, not the sentiment model (tested in tests/sentiment).
    with open_store(path) as store:
        rows = store.query("SELECT source, native_id, raw FROM mentions")
        put_labels(store, [(s, n, json.loads(r)["mood"]) for s, n, r in rows])


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Built once per test run (the xdist workers share it: tests/conftest.py built_once)."""
    folder = built_once(tmp_path_factory, worker_id, "alerts-demo", lambda f: build_demo_template(f / "demo.duckdb"))
    return folder / "demo.duckdb"


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_template, path)
    return path


@pytest.fixture
def store_factory(demo_db: Path) -> Callable[[], Store]:
    return lambda: open_store(demo_db)


def settings_with(alerts: dict, tmp_path: Path | None = None) -> Settings:
    """The repository's settings with the [alerts] section replaced."""
    return parse_settings({**read_toml(REPO_CONFIG), "alerts": alerts}, REPO_CONFIG)
