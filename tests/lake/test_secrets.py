"""The lake's catalog DSN may carry the PostgreSQL password ($KOUBEI_LAKE_CATALOG, and the
address `koubei dashboard` passes in $KOUBEI_DB): it never shows, wherever the lake is named
(storage/db.py: LakeLocation, _duckdb_dsn)."""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import nullcontext
from pathlib import Path

import pytest

from koubei.config import LAKE_ADDRESS
from storage import StorageError, open_store
from storage.db import LakeLocation, location_of
from tests.dashboard.browser import dashboard_server, free_port, launch
from tests.lake.conftest import KOUBEI, lake_config, run_koubei

PASSWORD = "Sup3r:Secret-pw"  # with a colon: a password file must escape it


def _with_password(dsn: str) -> str:
    return f"{dsn} password='{PASSWORD}'"


def _unreachable(tmp_path: Path) -> LakeLocation:
    """A lake whose catalog nobody serves: opening it fails with libpq's and DuckDB's errors."""
    return LakeLocation(
        _with_password(f"host=127.0.0.1 port={free_port()} user=koubei dbname=gone"), str(tmp_path / "gone") + "/"
    )


@pytest.mark.parametrize(
    "dsn",
    [
        f"host=db.internal port=5432 dbname=koubei_lake user=koubei_lake password='{PASSWORD}'",
        f"postgresql://koubei_lake:{PASSWORD.replace(':', '%3A')}@db.internal:5432/koubei_lake",
    ],
)
def test_a_lake_location_shows_its_database_and_host_never_the_password(dsn: str) -> None:
    """Bug: the dataclass's repr (tracebacks, logs of `{location!r}`) printed the DSN whole."""
    lake = LakeLocation(dsn, "/mnt/koubei/lake/")
    for shown in (str(lake), repr(lake), f"{lake!r}", lake.hide(f'Unable to connect to Postgres at "{dsn}"')):
        assert "Secret" not in shown and "%3A" not in shown
    assert str(lake) == "ducklake:postgres:koubei_lake@db.internal (/mnt/koubei/lake/)"


def test_duckdb_never_gets_the_password_so_its_errors_cannot_quote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: DuckDB's ATTACH error ('Unable to connect to Postgres at "host=... password=..."')
    went into the StorageError the CLI prints and the dashboard shows."""
    # The lock's own connection would fail first: this is the moment the catalog goes away
    # between the lock and the ATTACH (or any later query of DuckDB's).
    monkeypatch.setattr("storage.db._migration_lock", lambda location: nullcontext())
    with pytest.raises(StorageError) as raised:
        open_store(_unreachable(tmp_path))
    assert "Unable to connect to Postgres" in str(raised.value)
    assert "Secret" not in str(raised.value)
    cause = raised.value.__cause__ or raised.value.__context__
    assert cause is None or "Secret" not in str(cause)


def test_cli_errors_about_an_unreachable_catalog_name_it_without_the_password(tmp_path: Path) -> None:
    """Bug: an unreachable catalog ended `koubei worker` (and every command) in a traceback."""
    lake = _unreachable(tmp_path)
    for command in (["worker", "--once"], ["lake", "check"], ["config", "show"]):
        done = run_koubei(lake_config(tmp_path, lake), lake, *command, timeout=120)
        assert done.returncode != 0, command
        assert "cannot reach the lake's catalog ducklake:postgres:gone@127.0.0.1" in done.stderr, command
        assert "Traceback" not in done.stderr and "Secret" not in done.stdout + done.stderr, command


def test_worker_and_config_show_on_a_lake_with_a_password_print_none(tmp_path: Path, lake: LakeLocation) -> None:
    with_password = LakeLocation(_with_password(lake.catalog_dsn), lake.data_path)  # the test server trusts 127.0.0.1
    config = lake_config(tmp_path, with_password, days=0.25)  # a few dozen mentions
    address = LAKE_ADDRESS + json.dumps([with_password.catalog_dsn, with_password.data_path])
    worker = run_koubei(config, with_password, "worker", "--once")
    assert worker.returncode == 0, worker.stderr
    assert "collected demo" in worker.stdout
    env = {**os.environ, "KOUBEI_DB": address}
    shown = subprocess.run(
        [KOUBEI, "--config", str(config), "config", "show"], capture_output=True, text=True, timeout=120, env=env
    )
    assert shown.returncode == 0, shown.stderr
    for output in (worker.stdout + worker.stderr, shown.stdout + shown.stderr):
        assert "Secret" not in output


def test_the_dashboard_on_a_lake_with_a_password_shows_none(tmp_path: Path, lake: LakeLocation) -> None:
    """The dashboard gets the lake as its address in $KOUBEI_DB, DSN and all: neither its page
    nor its log may show the password."""
    from playwright.sync_api import sync_playwright

    from dashboard.strings import STRINGS

    with_password = LakeLocation(_with_password(lake.catalog_dsn), lake.data_path)
    log = tmp_path / "dashboard.log"
    with dashboard_server(with_password.address, log) as url, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_text(STRINGS["app.no_data"]["zh"]).first.wait_for(timeout=60_000)
            assert "Secret" not in page.locator("body").inner_text()
        finally:
            browser.close()
    assert "Secret" not in log.read_text(errors="replace")


def test_the_dashboard_names_a_lake_in_its_messages_without_the_password() -> None:
    """Bug: the message for a database that predates this version quoted $KOUBEI_DB as given,
    and a lake's address holds its DSN, password and all (dashboard/loaders.py): it names the
    store as Store.path does, through storage.db.location_of."""
    lake = LakeLocation(_with_password("host=db.internal dbname=koubei_lake user=k"), "/data/lake/")
    named = str(location_of(lake.address))
    assert "Secret" not in named
    assert "koubei_lake@db.internal" in named
    assert str(location_of("/data/koubei.duckdb")) == "/data/koubei.duckdb"
