"""Two real `koubei alerts` processes and a slow real receiver: each alert delivered exactly once
(issue 17, item 6)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storage import open_store
from storage.incidents import OutboxRow, begin_send, claim_due, enqueue, outbox_rows, stable_id
from tests.processes import finish, koubei, wait_until

ALERTS = 16
ANSWER_SECONDS = 0.4  # each request, under the channel's timeout below
TIMEOUT = 0.6
OLD_LEASE = 2.0  # the fixed lease, shortened from 5 minutes so that the race takes seconds


class SlowReceiver(ThreadingHTTPServer):
    """A webhook that takes ANSWER_SECONDS to accept each alert and remembers its Idempotency-Key."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def received(self) -> int:
        with self.lock:
            return len(self.keys)


class _Handler(BaseHTTPRequestHandler):
    server: SlowReceiver

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(ANSWER_SECONDS)
        with self.server.lock:
            self.server.keys.append(self.headers["Idempotency-Key"])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[SlowReceiver]:
    server = SlowReceiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _row(i: int, now: datetime) -> OutboxRow:
    incident = f"incident-{i}"
    return OutboxRow(
        id=stable_id(incident, "hook", "opened"),
        incident_id=incident,
        channel="hook",
        route="all",
        event="opened",
        severity=4,
        payload={
            "incident_id": incident,
            "kind": "negative",
            "severity": 4,
            "brand": "声浪",
            "scope_type": "brand",
            "scope_value": "声浪",
            "window_start": str(now - timedelta(hours=1)),
            "window_end": str(now),
            "peak_at": str(now),
            "observed": 40.0,
            "expected": 4.0,
            "score": 6.0,
        },
        next_attempt_at=now,
        created_at=now,
    )


def test_a_second_sender_never_resends_what_a_slow_sender_still_holds(tmp_path: Path, receiver: SlowReceiver) -> None:
    """Bug: with a receiver slower than the lease allowed for a whole claim, a second
    `koubei alerts` took over rows the first still held and both sent them (42 deliveries
    for 40 alerts). Leases are renewed before each send now, and the sender checks it
    still holds the row."""
    db = tmp_path / "k.duckdb"
    config = tmp_path / "koubei.toml"
    config.write_text(
        f'[alerts.channels.hook]\ntype = "webhook"\nurl = "{receiver.url}"\ntimeout = {TIMEOUT}\n\n'
        '[[alerts.routes]]\nname = "all"\nchannels = ["hook"]\n'
    )
    now = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
    with open_store(db) as store:
        for i in range(ALERTS):
            enqueue(store, _row(i, now))
    prelude = f"import datetime, alerts.delivery\nalerts.delivery.LEASE = datetime.timedelta(seconds={OLD_LEASE})"
    first = koubei(config, db, "alerts", prelude=prelude)
    wait_until(receiver.received, 60, "the first sender's first alert")
    time.sleep(OLD_LEASE + 0.5)  # past the lease the first sender took when it claimed
    assert receiver.received() < ALERTS - 2, "the first sender finished before the race could happen"
    second = koubei(config, db, "alerts", prelude=prelude)
    finish(second)
    finish(first)
    counts = Counter(receiver.keys)
    assert set(counts) == {stable_id(f"incident-{i}", "hook", "opened") for i in range(ALERTS)}
    assert max(counts.values()) == 1, f"{len(receiver.keys)} deliveries for {ALERTS} alerts"
    with open_store(db) as store:
        rows = outbox_rows(store)
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}


def test_a_sender_whose_lease_was_taken_over_does_not_send(tmp_path: Path) -> None:
    """The check before each send: a sender that lost a row (its lease ran out and another
    sender claimed it) is told not to send it; the new holder is."""
    now = datetime(2026, 11, 23, 4, 0)
    with open_store(tmp_path / "k.duckdb") as store:
        enqueue(store, row := _row(0, now))
        claim_due(store, now, now + timedelta(minutes=5), "first")
        later = now + timedelta(minutes=6)  # the first sender's lease ran out
        claim_due(store, later, later + timedelta(minutes=5), "second")
        assert begin_send(store, row.id, "first", later + timedelta(minutes=5)) is None
        assert begin_send(store, row.id, "second", later + timedelta(minutes=5)) == 1
        (held,) = outbox_rows(store)
    assert (held.status, held.lease_owner, held.attempts) == ("sending", "second", 1)
