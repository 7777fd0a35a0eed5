"""Shared fixtures: a fresh database per test, paths to ../shared."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Store, open_store

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KOUBEI_SHARED", REPO.parent / "shared"))
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED}: tests read fixtures and datasets from it")
    return SHARED


@pytest.fixture
def fixtures_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "sources"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "koubei.duckdb"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with open_store(db_path) as opened:
        yield opened


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
