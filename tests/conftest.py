"""Shared fixtures: a fresh database per test, paths to ../shared."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage import Store, open_store
from storage.db import LakeLocation
from tests.postgres import PostgresServer, running_postgres

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KOUBEI_SHARED", REPO.parent / "shared"))
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def author_key_ring(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Path]:
    """Tests (and the commands they start) keep their author key ring in a temporary folder,
    never in the home directory's ~/.config/koubei (storage/keys.py). Under pytest-xdist the
    workers share one ring, as they share the demo database whose hashes it made
    (tests/dashboard/conftest.py); storage/keys.py locks the ring while it creates it."""
    if worker_id == "master":
        path = tmp_path_factory.mktemp("keys") / "author.key"
    else:
        folder = tmp_path_factory.getbasetemp().parent / "keys"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / "author.key"
    saved = os.environ.get("KOUBEI_AUTHOR_KEY_FILE")
    os.environ["KOUBEI_AUTHOR_KEY_FILE"] = str(path)
    yield path
    if saved is None:
        del os.environ["KOUBEI_AUTHOR_KEY_FILE"]
    else:
        os.environ["KOUBEI_AUTHOR_KEY_FILE"] = saved


def built_once(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str, build: Callable[[Path], None]
) -> Path:
    """A folder `build` fills once per test run: under pytest-xdist the workers share it (the
    first to take the lock builds; the others wait, then only read), so an expensive store
    is not built again by every worker. A build that failed is tried again by the next."""
    if worker_id == "master":
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    folder = tmp_path_factory.getbasetemp().parent / name
    folder.mkdir(exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / "built").exists():
                build(folder)
                (folder / "built").touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for this test session (one per xdist worker): tests/postgres.py."""
    with running_postgres() as server:
        yield server


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
def lake(postgres: PostgresServer, tmp_path: Path, request: pytest.FixtureRequest) -> LakeLocation:
    """A fresh, empty DuckLake: its own catalog database on the session's PostgreSQL, data in tmp_path."""
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8]  # the name alone is cut short
    name = "lake_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:40] + f"_{digest}_{os.getpid()}"
    return LakeLocation(postgres.create_database(name.lower()), str(tmp_path / "lake-data") + "/")


@pytest.fixture(params=["duckdb", "ducklake"])
def any_db(request: pytest.FixtureRequest, db_path: Path) -> Path | LakeLocation:
    """Where a test's database lives, once on each backend: the single DuckDB file and a
    DuckLake on PostgreSQL."""
    location: Path | LakeLocation = request.getfixturevalue("lake") if request.param == "ducklake" else db_path
    return location


@pytest.fixture
def any_store(any_db: Path | LakeLocation) -> Iterator[Store]:
    """The same test on both backends (any_db), with the database open."""
    with open_store(any_db) as opened:
        yield opened


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
