"""Scheduled reports: [[reports]] in koubei.toml, due times, and delivery exactly once per period
to a real local SMTP server (aiosmtpd) and a real local webhook receiver, across kill -9 and
restarts of `koubei watch`."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from collectors.options import parse_source
from collectors.runner import run_collector
from collectors.sources.demo import DemoCollector
from koubei.config import parse_settings
from koubei.errors import ConfigError
from koubei.settings.reports import Schedule
from reports.schedule import due_now
from sentiment.pipeline import score_pending
from storage import open_store
from storage.incidents import outbox_rows

REPO = Path(__file__).resolve().parents[2]
KOUBEI = str(Path(sys.executable).with_name("koubei"))
SHANGHAI = "Asia/Shanghai"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_schedules_name_the_last_time_they_fell_due() -> None:
    monday_nine = Schedule.parse("every Monday 09:00 Asia/Shanghai")
    # Monday 2026-11-23 08:59 in Shanghai: the last Monday 09:00 is a week before.
    assert monday_nine.latest(_at("2026-11-23T08:59+08:00")) == _at("2026-11-16T09:00+08:00")
    assert monday_nine.latest(_at("2026-11-23T09:00+08:00")) == _at("2026-11-23T09:00+08:00")
    assert monday_nine.latest(_at("2026-11-26T12:00+00:00")) == _at("2026-11-23T09:00+08:00")
    assert Schedule.parse("every 周一 09:00").latest(_at("2026-11-24T00:00+08:00")) == _at("2026-11-23T09:00+08:00")
    daily = Schedule.parse("every day 08:30 UTC")
    assert daily.latest(_at("2026-11-23T08:00+00:00")) == _at("2026-11-22T08:30+00:00")
    monthly = Schedule.parse("every month 1 09:00")
    assert monthly.latest(_at("2026-12-01T08:00+08:00")) == _at("2026-11-01T09:00+08:00")
    assert monthly.latest(_at("2026-12-15T08:00+08:00")) == _at("2026-12-01T09:00+08:00")


def test_the_period_is_the_full_week_or_month_before_the_scheduled_time() -> None:
    settings = parse_settings(
        {
            "alerts": {"channels": {"mail": {"type": "email", "to": ["boss@example.com"]}}},
            "reports": [
                {"name": "weekly", "schedule": "every Monday 09:00", "channels": ["mail"]},
                {"name": "monthly", "schedule": "every month 1 09:00", "period": "month", "channels": ["mail"]},
            ],
        }
    )
    weekly, monthly = settings.reports
    due = due_now(weekly, _at("2026-11-25T10:00+08:00"))
    assert (due.period.first_day, due.period.last_day) == (date(2026, 11, 16), date(2026, 11, 22))
    due = due_now(monthly, _at("2026-12-01T09:00+08:00"))
    assert (due.period.first_day, due.period.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    assert due.key == "report:monthly:20261101-20261130"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"schedule": "every Funday 09:00"}, "'Funday' is not a weekday"),
        ({"schedule": "weekly"}, "every Monday 09:00"),
        ({"schedule": "every month 31 09:00"}, "1 to 28"),
        ({"channels": ["mial"]}, "unknown channel 'mial' (did you mean 'mail'?)"),
        ({"period": "year"}, "period"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_wrong_report_entry_is_one_clear_error(entry: dict[str, Any], message: str) -> None:
    report = {"name": "weekly", "schedule": "every Monday 09:00", "channels": ["mail"], **entry}
    with pytest.raises(ConfigError, match=f"reports.*{message[:12]}".replace("(", r"\(").replace("?", r"\?")):
        parse_settings({"alerts": {"channels": {"mail": {"type": "email"}}}, "reports": [report]})


# ------------------------------------------------------------------ delivery across kill -9


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@contextmanager
def smtp_server(port: int) -> Iterator[_Inbox]:
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, data_size_limit=50_000_000)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@contextmanager
def webhook_receiver(port: int) -> Iterator[list[tuple[dict[str, str], dict[str, Any]]]]:
    received: list[tuple[dict[str, str], dict[str, Any]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), json.loads(body)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


def _demo_db(path: Path) -> None:
    """Two weeks of demo mentions up to now, scored: the last full week has data to report."""
    options = {"seed": 7, "days": 15, "rate": 6, "end": datetime.now(UTC).isoformat()}
    result = run_collector(DemoCollector(parse_source("demo", options)), lambda: open_store(path))
    assert result.ok, result.error
    score_pending(lambda: open_store(path), parse_settings({}))


def _config(tmp: Path, smtp_port: int, hook_port: int) -> Path:
    config = tmp / "koubei.toml"
    config.write_text(
        f"""
[alerts]
retry_base_seconds = 1
max_attempts = 20

[alerts.channels.mail]
type = "email"
host = "127.0.0.1"
port = {smtp_port}
from = "koubei@localhost"
to = ["boss@example.com"]

[alerts.channels.hook]
type = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"

[[reports]]
name = "weekly"
schedule = "every day 00:00 UTC"
period = "week"
brands = ["声浪"]
format = "pdf"
channels = ["mail", "hook"]
output_dir = "{tmp / "reports"}"
""",
        encoding="utf-8",
    )
    return config


@contextmanager
def watching(config: Path, db: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [KOUBEI, "--config", str(config), "--db", str(db), "watch"],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)


def _wait(what: str, check: Callable[[], bool], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {timeout:.0f}s; watch said:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)


def _report_rows(db: Path) -> list[Any]:
    with open_store(db, read_only=True) as store:
        return [r for r in outbox_rows(store) if r.event == "report"]


def _heartbeat(db: Path) -> datetime | None:
    from storage.health import source_health

    with open_store(db, read_only=True) as store:
        rows = [r for r in source_health(store) if r.source == "koubei-watch"]
    return rows[0].last_run_at if rows else None


@pytest.mark.browser
def test_the_scheduled_report_is_delivered_exactly_once_across_kill_and_restart(tmp_path: Path) -> None:
    db, log = tmp_path / "k.duckdb", tmp_path / "watch.log"
    _demo_db(db)
    smtp_port, hook_port = _free_port(), _free_port()
    config = _config(tmp_path, smtp_port, hook_port)

    # 1. Due at start, produced and queued; both receivers are down, so each send fails and waits
    #    for a retry. Then the watch is killed without warning.
    with watching(config, db, log) as proc:
        _wait(
            "the report queued and tried once on each channel",
            lambda: len(rows := _report_rows(db)) == 2 and all(r.attempts >= 1 and r.last_error for r in rows),
            log,
        )
        proc.send_signal(signal.SIGKILL)
    files = list((tmp_path / "reports").iterdir())
    assert [f.name for f in files] == [f"weekly-{_report_rows(db)[0].incident_id.split(':')[2]}.pdf"]

    # 2. The receivers come up; a restarted watch sends what the outbox kept, once.
    with smtp_server(smtp_port) as inbox, webhook_receiver(hook_port) as hooks:
        with watching(config, db, log) as proc:
            _wait("both sent", lambda: all(r.status == "sent" for r in _report_rows(db)), log)
            proc.send_signal(signal.SIGKILL)
        # 3. Killed again and restarted: the period's report is neither produced nor sent again.
        before = _heartbeat(db)
        with watching(config, db, log):
            _wait("a delivery step after the restart", lambda: _heartbeat(db) != before, log)
            time.sleep(1.0)
        assert len(inbox.messages) == 1 and len(hooks) == 1
        assert len(_report_rows(db)) == 2

    mail = inbox.messages[0]
    attachment = next(mail.iter_attachments())
    pdf = attachment.get_content()
    assert attachment.get_content_type() == "application/pdf" and pdf.startswith(b"%PDF")
    assert "声浪" in mail["Subject"] and "声浪" in "".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages)
    headers, body = hooks[0]
    assert body["event"] == "report" and body["report"] == "weekly" and "file" not in body
    assert base64.b64decode(body["attachment"]["base64"]) == pdf == files[0].read_bytes()
    sent = {r.channel: r for r in _report_rows(db)}
    assert headers["Idempotency-Key"] == sent["hook"].id
    assert mail["Message-ID"] == f"<{sent['mail'].id}@koubei>"
    first_day = date.fromisoformat(body["period"][0])
    assert first_day.weekday() == 0 and date.fromisoformat(body["period"][1]) == first_day + timedelta(days=6)
    assert body["mentions"] > 0
