"""`koubei watch` on a lake: a pass collects, scores, detects the demo's crisis, queues its
alert in the outbox and delivers it to a real local receiver."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from pytest_httpserver import HTTPServer

from storage import open_store
from storage.db import LakeLocation
from storage.health import source_health
from storage.incidents import list_incidents, outbox_rows
from tests.lake.conftest import CATALOG_ENV, KOUBEI

HOOK_ENV = "KOUBEI_TEST_LAKE_HOOK"


def test_a_watch_pass_on_the_lake_detects_alerts_and_delivers(
    tmp_path: Path, lake: LakeLocation, httpserver: HTTPServer
) -> None:
    config = tmp_path / "koubei.toml"
    config.write_text(
        f'[storage]\nbackend = "ducklake"\ncatalog_env = "{CATALOG_ENV}"\ndata_path = "{lake.data_path}"\n\n'
        "[sources.demo]\ndays = 3\nrate = 10\nseed = 7\ncrisis_hours_ago = 10\n\n"
        f'[alerts.channels.team]\ntype = "webhook"\nurl_env = "{HOOK_ENV}"\n\n'
        '[[alerts.routes]]\nname = "everyone"\nchannels = ["team"]\n',
        encoding="utf-8",
    )
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    env = {**os.environ, CATALOG_ENV: lake.catalog_dsn, HOOK_ENV: httpserver.url_for("/hook")}
    env.pop("KOUBEI_DB", None)
    done = subprocess.run(
        [KOUBEI, "--config", str(config), "watch", "--max-passes", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "1 passes, 0 failed" in done.stdout, done.stdout + done.stderr
    with open_store(lake, read_only=True) as store:
        mentions, scored = store.query("SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM sentiment)")[0]
        incidents = list_incidents(store)
        sent = outbox_rows(store, "sent")
        pending = outbox_rows(store, "pending") + outbox_rows(store, "sending") + outbox_rows(store, "dead")
        health = {h.source for h in source_health(store)}
    assert mentions > 500 and scored == mentions
    assert any(i.kind == "negative" and i.alerted_severity is not None for i in incidents), incidents
    assert sent and not pending, pending
    bodies = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert len(bodies) == len(sent), "each queued alert arrives once"
    assert "demo" in health
