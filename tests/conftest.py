"""Shared fixtures: a fresh database per test, paths to ../shared."""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import multiprocessing.context
import os
import resource
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage import Store, open_store
from storage.db import LakeLocation, detach
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


# Modules whose tests take a minute or more each (AppTest on a lake, multi-process lake workers,
# detection over three weeks of demo data): they run first, after the browser groups and the slow
# tests (the model's retrain). Tests that time a process (tests/alerts/test_watch.py's stop within
# 5 s) stay in their place among short tests: beside a long test on a 2-core machine they run late.
LONG_MODULES = (
    "tests/dashboard/test_auth.py",
    "tests/alerts/test_red_alert.py",
    "tests/lake/",
)

# The browser tests in two xdist groups of about equal time (seconds: each module's setup, call and
# teardown summed, from a full run's KOUBEI_TEST_TIMELINE, 2026-12-08 01h00, load 5 to 14 from other
# processes: 538 s a group). `--dist loadgroup` gives each group to one worker
# as a whole, the larger (in tests) to gw0 and the other to gw1, before anything else: both workers
# drive Chromium from the start, each at most one Chromium and one dashboard server at a time, and
# a module's module-scoped server and browser start once. One group (every browser test on one
# worker, until session 27) left that worker 750 s of serial browser work. A new browser module
# must be placed here (collection fails otherwise): put it in the lighter group.
BROWSER_GROUPS = {
    "tests/dashboard/test_pages_in_chromium.py": "browser-1",  # 431
    "tests/dashboard/test_e2e.py": "browser-1",  # 69
    "tests/reports/test_pdf.py": "browser-1",  # 17
    "tests/reports/test_browser.py": "browser-1",  # 13
    "tests/dashboard/test_overview_chart_in_chromium.py": "browser-1",  # 8
    "tests/storage/test_reader_waits.py": "browser-2",  # 67, no browser: see GROUPED_WITHOUT_BROWSER
    "tests/dashboard/test_team_on_lake_in_chromium.py": "browser-2",  # 111
    "tests/dashboard/test_compare_sources_in_chromium.py": "browser-2",  # 142
    "tests/dashboard/test_settings_in_chromium.py": "browser-2",  # 124
    "tests/dashboard/test_sign_in_in_chromium.py": "browser-2",  # 56
    "tests/reports/test_schedule.py": "browser-2",  # 38 (its one browser test)
}
# Long multi-process tests that balance a browser group: in a group they run on one worker
# after another, never beside each other (a 130,000-row import beside a lake's three workers
# would stretch every hold of the file).
GROUPED_WITHOUT_BROWSER = ("tests/storage/test_reader_waits.py",)


def module_of(item: pytest.Item) -> str:
    return Path(str(item.path)).relative_to(REPO).as_posix()


def runs_long(item: pytest.Item) -> bool:
    return item.get_closest_marker("browser") is not None or module_of(item).startswith(LONG_MODULES)


def starting_rank(item: pytest.Item) -> int:
    """0 for the slow tests (the longest single ones: the retrain, 152 s in a clean CI run, 189 s
    at load 5 to 7), 1 for the long ones, 2 for the rest. First among the tests outside the browser
    groups, not first of all: --dist loadgroup gives a worker its next unit only when at most two
    of its tests are left, so the retrain starts when a group ends (558 s into that run)."""
    if item.get_closest_marker("slow") is not None:
        return 0
    return 1 if runs_long(item) else 2


def browser_group(item: pytest.Item) -> str | None:
    """The xdist group of a browser test (or of a test grouped with them), else None."""
    module = module_of(item)
    if item.get_closest_marker("browser") is None and module not in GROUPED_WITHOUT_BROWSER:
        return None
    if module not in BROWSER_GROUPS:
        raise pytest.UsageError(f"{module}: a browser test's module must be in tests/conftest.py's BROWSER_GROUPS")
    return BROWSER_GROUPS[module]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's hook, which names the group in the node id
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each browser test in its group (BROWSER_GROUPS), and the slow then long tests first. `make test`
    (--dist loadgroup, pytest pinned below 9.2 so that xdist_group is honoured: pytest-xdist
    issue 1386) hands out the groups first (they hold the most tests), one to each worker, then
    each other test to whichever worker is free, in this order, so a long test started last
    would leave the other core idle while it runs; short ones at the end keep both busy to the
    finish. Within each part, the collection's order."""
    for item in items:
        if group := browser_group(item):
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=starting_rank)


# KOUBEI_TEST_TIMELINE=folder: each process (each xdist worker) writes one JSON line per phase
# of each test (setup, call, teardown: worker, start, stop, outcome) to folder/<worker>.jsonl, so
# where a run's wall goes (a worker idle, a fixture paid many times, a test that waits more than
# it computes: its CPU seconds) can be read back by tests/timeline.py. Off unless the variable is set.
TIMELINE_FOLDER = os.environ.get("KOUBEI_TEST_TIMELINE")


def write_timeline(line: dict[str, object]) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "master")
    folder = Path(str(TIMELINE_FOLDER))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{worker}.jsonl", "a") as log:
        log.write(json.dumps({"worker": worker, **line}) + "\n")


def pytest_sessionstart(session: pytest.Session) -> None:
    if TIMELINE_FOLDER:
        write_timeline({"nodeid": "", "when": "sessionstart", "start": time.time(), "stop": time.time()})


def pytest_sessionfinish(session: pytest.Session) -> None:
    if TIMELINE_FOLDER:
        write_timeline({"nodeid": "", "when": "sessionfinish", "start": time.time(), "stop": time.time()})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    relayed = os.environ.get("PYTEST_XDIST_WORKER") is None and hasattr(report, "node")
    if not TIMELINE_FOLDER or relayed:  # the xdist controller relays each worker's report: the worker wrote it
        return
    phase = {"nodeid": report.nodeid, "when": report.when, "start": report.start, "stop": report.stop}
    write_timeline({**phase, "outcome": report.outcome, "cpu": cpu_seconds()})


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that ended (dashboard servers, `koubei`
    commands, a module's Chromium when its Playwright driver exits), so far: the difference
    between two phases of one worker is what the first of them cost."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def built_once(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str, build: Callable[[Path], object]
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


def catalog_name(request: pytest.FixtureRequest) -> str:
    """A catalog database's name for this test, unique in the run: PostgreSQL cuts names at 63 bytes."""
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8]  # the name alone is cut short
    name = "lake_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:40] + f"_{digest}_{os.getpid()}"
    return name.lower()


@pytest.fixture
def lake(postgres: PostgresServer, tmp_path: Path, request: pytest.FixtureRequest) -> LakeLocation:
    """A fresh, empty DuckLake: its own catalog database on the session's PostgreSQL, data in tmp_path."""
    return LakeLocation(postgres.create_database(catalog_name(request)), str(tmp_path / "lake-data") + "/")


MIGRATED_LAKE = "migrated_lake"


@pytest.fixture(scope="session")
def migrated_lake(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> LakeLocation:
    """An empty lake with every migration applied, once per test process: any_db's lakes are
    copies of its catalog (creating and migrating a lake's catalog takes a second or more)."""
    lake = LakeLocation(postgres.create_database(MIGRATED_LAKE), str(tmp_path_factory.mktemp("migrated-lake")) + "/")
    with open_store(lake):
        pass
    detach(lake)  # PostgreSQL copies a database nobody is connected to
    return lake


@pytest.fixture(params=["duckdb", "ducklake"])
def any_db(request: pytest.FixtureRequest, db_path: Path) -> Path | LakeLocation:
    """Where a test's database lives, once on each backend: the single DuckDB file and a
    DuckLake on PostgreSQL (a copy of migrated_lake's catalog over its data folder: DuckLake
    never changes a data file it wrote, a write adds files of new names)."""
    if request.param == "duckdb":
        return db_path
    template: LakeLocation = request.getfixturevalue("migrated_lake")
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return LakeLocation(postgres.create_database(catalog_name(request), template=MIGRATED_LAKE), template.data_path)


@pytest.fixture
def any_store(any_db: Path | LakeLocation) -> Iterator[Store]:
    """The same test on both backends (any_db), with the database open."""
    with open_store(any_db) as opened:
        yield opened


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def spawn(monkeypatch: pytest.MonkeyPatch) -> multiprocessing.context.SpawnContext:
    """Fresh interpreters for a test's child processes, nothing shared with pytest. "spawn" re-runs
    the parent's __main__ file in each child: after an AppTest in the same xdist worker, __main__
    is a dashboard page, which the children would execute (and die, EOFError in the parent)."""
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    return multiprocessing.get_context("spawn")
