"""A small database built by the real pipeline: demo collect -> score -> detect.

The demo runs over a few days at a low rate so the whole build takes seconds;
its `end` is fixed so the data (and the seeded crisis) are the same every run.
A few hostile mentions (markdown, HTML, PII, formula) are stored as a collector
would, newest of all, so they are among the latest negative mentions.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from koubei.config import Settings, parse_settings
from koubei.records import Mention
from storage import open_store, upsert_mentions
from storage.db import LakeLocation, detach
from storage.incidents import Incident
from storage.lake_copy import copy_to_lake
from tests.conftest import built_once
from tests.dashboard.browser import launch
from tests.postgres import PostgresServer

DEMO_END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=8)))
DEMO_OPTIONS: dict[str, Any] = {"seed": 7, "days": 6, "rate": 10, "end": DEMO_END.isoformat()}
HOSTILE_TEXT = (
    "![x](http://evil.example/p.png) <img src=x onerror=alert(1)> :red[hi] **粗体** "
    "声浪P20充电宝电池发热烫手，太差了，垃圾，客服不理人，要求退款！电话13812345678"
)
# The demo's seeded crisis: negative posts about this product's battery heating.
CRISIS_PRODUCT = "声浪P20充电宝"
PHONE = "13812345678"
MASKED_PHONE = "138****5678"


def demo_settings() -> Settings:
    return parse_settings(
        {
            "brands": [
                {"name": "声浪", "keywords": ["声浪"], "products": ["声浪X1耳机", "声浪P20充电宝", "声浪Pad平板"]},
                {"name": "鲜到家", "keywords": ["鲜到家"], "products": ["鲜到家生鲜配送", "鲜到家会员卡"]},
            ],
            "sources": {"demo": dict(DEMO_OPTIONS)},
        }
    )


def hostile_mentions() -> list[Mention]:
    newest = DEMO_END.astimezone(UTC) - timedelta(minutes=1)
    return [
        Mention(
            source="import.csv",
            native_id="hostile-1",
            text=HOSTILE_TEXT,
            published_at=newest,
            url="javascript:alert(document.cookie)",
            brand="声浪",
            product="声浪P20充电宝",
            likes=5,
        ),
        Mention(
            source="import.csv",
            native_id="hostile-2",
            text='=HYPERLINK("http://evil.example","点这里") 充电宝爆炸了，质量太差，退货！',
            published_at=newest - timedelta(minutes=1),
            url="https://weibo.example/hostile-2",
            brand="声浪",
            product="声浪P20充电宝",
        ),
    ]


def build_demo_db(path: Path) -> Path:
    """The real pipeline, step by step, with each step's own short-lived connections."""
    from alerts.detect import detect_incidents
    from collectors.options import parse_source
    from collectors.runner import run_collector
    from collectors.sources.demo import DemoCollector
    from sentiment.pipeline import score_pending

    settings = demo_settings()

    def opener() -> Any:
        return open_store(path)

    result = run_collector(DemoCollector(parse_source("demo", dict(DEMO_OPTIONS))), opener)
    assert result.ok, result.error
    with open_store(path) as store:
        upsert_mentions(store, hostile_mentions())
    score_pending(opener, settings)
    detect_incidents(opener, settings, now=DEMO_END.astimezone(UTC))
    return path


def is_seeded_crisis(incident: Incident) -> bool:
    """The negative spike the demo seeds, as the detector reports it for the product."""
    return incident.kind == "negative" and incident.scope_value == CRISIS_PRODUCT


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Built once per test run and shared by the pytest-xdist workers (tests/conftest.py
    built_once); everyone only reads it afterwards."""
    folder = built_once(tmp_path_factory, worker_id, "dashboard-demo", lambda f: build_demo_db(f / "koubei.duckdb"))
    return folder / "koubei.duckdb"


DEMO_LAKE = "demo_lake"  # the catalog database demo_lake copies the demo into


@pytest.fixture(scope="session")
def demo_lake(
    demo_db: Path, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> LakeLocation:
    """The demo database copied into a lake by `koubei migrate --to ducklake`'s copy, once per
    test run; demo_copy forks it. Each xdist worker has its own PostgreSQL server: the worker
    that copies also dumps the catalog, the others replay the dump, over the same data folder."""

    def build(folder: Path) -> None:
        lake = LakeLocation(postgres.create_database(DEMO_LAKE), str(folder / "data") + "/")
        copy_to_lake(demo_db, lake)
        detach(lake)  # PostgreSQL copies a database nobody is connected to
        postgres.dump(DEMO_LAKE, folder / "catalog.sql")

    folder = built_once(tmp_path_factory, worker_id, "demo-lake", build)
    dsn = (
        postgres.dsn(DEMO_LAKE)
        if postgres.has_database(DEMO_LAKE)
        else postgres.restore(folder / "catalog.sql", DEMO_LAKE)
    )
    return LakeLocation(dsn, str(folder / "data") + "/")


def demo_copy(demo_db: Path, request: pytest.FixtureRequest, backend: str) -> Path | str:
    """A copy of the demo database a test may write to: a file beside the test's, or a lake
    given as its address (which open_store and $KOUBEI_DB take as they take a path). A lake
    is copied as its catalog (a PostgreSQL database made from demo_lake's) over demo_lake's
    data folder: DuckLake never changes a data file it wrote, a write adds files of new names."""
    tmp_path: Path = request.getfixturevalue("tmp_path")
    if backend == "duckdb":
        db = tmp_path / "demo-copy.duckdb"
        shutil.copy(demo_db, db)
        return db
    template: LakeLocation = request.getfixturevalue("demo_lake")
    postgres: PostgresServer = request.getfixturevalue("postgres")
    name = f"demo_copy_{next(_copies)}"
    return LakeLocation(postgres.create_database(name, template=DEMO_LAKE), template.data_path).address


_copies = itertools.count()  # numbers the catalog databases demo_copy makes in this process


YEAR_N = 7_300  # mentions in the generated year store the read tests compare old and new queries on


def with_corrections(path: Path) -> None:
    """Label and tier corrections on a few triaged mentions, so that those columns are not all empty."""
    from storage.sentiment import save_labels, save_tier_labels

    with open_store(path) as store:
        keys = store.query("SELECT source, native_id FROM triage ORDER BY urgency DESC, native_id LIMIT 6")
        save_labels(store, [(s, n, "pos") for s, n in keys[:3]])
        save_tier_labels(store, [(s, n, 1) for s, n in keys[2:]])


@pytest.fixture(scope="session")
def year_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A generated year store (benchmarks/yearstore.py) of YEAR_N mentions, with a detection pass as of
    its newest mention and a few corrections, built once per test run; only read afterwards."""
    from alerts.detect import detect_incidents
    from benchmarks import yearstore

    def build(folder: Path) -> None:
        path = folder / "year.duckdb"
        yearstore.build(YEAR_N, path)
        with open_store(path, read_only=True) as store:
            newest = store.query("SELECT max(published_at) FROM mentions")[0][0]
        detect_incidents(lambda: open_store(path), parse_settings({}, db=path), now=newest)
        with_corrections(path)

    return built_once(tmp_path_factory, worker_id, "year-store", build) / "year.duckdb"


@pytest.fixture
def dashboard_env(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the app at the demo database, as `koubei dashboard` does with $KOUBEI_DB."""
    monkeypatch.setenv("KOUBEI_DB", str(demo_db))
    yield demo_db


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per browser-test module (tests/dashboard/browser.py launches Debian's)."""
    with sync_playwright() as p:
        opened = launch(p)
        yield opened
        opened.close()
