"""storage/incidents.py and storage/health.py: typed records in, the same records out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from storage import Store, users
from storage.audit import entries
from storage.health import record_heartbeat, record_success, source_health
from storage.incidents import (
    AspectRise,
    Incident,
    OutboxRow,
    SourceCount,
    assignee,
    begin_send,
    claim_due,
    enqueue,
    get_incident,
    list_incidents,
    log_response,
    outbox_rows,
    responses,
    save_incident,
)
from storage.users import Actor, Forbidden

T0 = datetime(2026, 11, 23, 4, 0)


def _incident(**changes: Any) -> Incident:
    incident = Incident(
        id="i1",
        kind="negative",
        scope_type="product",
        brand="声浪",
        scope_value="声浪P20充电宝",
        bucket="1h",
        window_start=T0,
        window_end=T0 + timedelta(hours=3),
        peak_at=T0 + timedelta(hours=1),
        observed=120.0,
        expected=12.5,
        score=9.5,
        factor=9.6,
        severity=4,
        reliable=False,
        keywords=("发热", "电池"),
        aspects=(AspectRise("质量", 80, 6.0),),
        sources=(SourceCount("demo.weibo", 70), SourceCount("demo.jd", 50)),
        rule="negative-spike",
        note="demo.weibo: collection failing",
        created_at=T0,
        updated_at=T0,
    )
    return replace(incident, **changes)


def test_an_incident_reads_back_as_it_was_saved(store: Store) -> None:
    saved = _incident()
    save_incident(store, saved, [])
    assert get_incident(store, "i1") == saved
    assert list_incidents(store) == [saved]
    assert get_incident(store, "nope") is None


def test_an_update_from_detection_keeps_what_people_did(store: Store) -> None:
    """A later pass saves the grown burst; status, acknowledgement and first response stay."""
    save_incident(store, _incident(), [])
    log_response(store, "i1", "acknowledge", "小王", None, T0 + timedelta(hours=4))
    grown = _incident(window_end=T0 + timedelta(hours=6), severity=5, updated_at=T0 + timedelta(hours=6))
    save_incident(store, grown, [])
    stored = get_incident(store, "i1")
    assert stored is not None
    assert (stored.window_end, stored.severity) == (grown.window_end, 5)
    assert stored.status == "acknowledged" and stored.acknowledged_at == T0 + timedelta(hours=4)
    assert stored.first_response_at == T0 + timedelta(hours=4) and stored.created_at == T0


def test_outbox_rows_keep_their_payload_and_are_queued_once(store: Store) -> None:
    row = OutboxRow(
        id="o1",
        incident_id="i1",
        channel="hook",
        route="all",
        event="opened",
        severity=4,
        payload={"brand": "声浪", "keywords": ["发热"], "observed": 120.0},
        next_attempt_at=T0,
        created_at=T0,
    )
    assert enqueue(store, row) is True
    assert enqueue(store, row) is False
    assert outbox_rows(store) == [row]
    (claimed,) = claim_due(store, T0, T0 + timedelta(minutes=5), "sender")
    # A claim is a lease; the attempt is counted when the send begins.
    assert claimed == replace(row, status="sending", next_attempt_at=T0 + timedelta(minutes=5), lease_owner="sender")
    assert outbox_rows(store, "sending") == [claimed]
    lease = T0 + timedelta(minutes=10)
    # begin_send used RETURNING, which the lake does not have (issue 16).
    assert begin_send(store, "o1", "sender", lease) == 1
    assert begin_send(store, "o1", "another sender", lease) is None
    assert begin_send(store, "o1", "sender", lease) == 2


def test_people_act_on_an_incident_and_every_action_is_audited_in_order(store: Store) -> None:
    """On the lake the audit log had no ids (no sequences there), so the trail could not be
    read in order; the ids now need no sequence (Store.append_log)."""
    admin = Actor("root", "admin", "test", signed_in=False)
    users.add(store, "duty", "responder", "pw-for-duty-1", admin)
    users.add(store, "reader", "viewer", "pw-for-reader-1", admin)
    save_incident(store, _incident(), [])
    duty = Actor("duty", "responder", "browser@10.0.0.2")
    log_response(store, "i1", "acknowledge", duty, None, T0 + timedelta(minutes=1))
    log_response(store, "i1", "assign", duty, "duty", T0 + timedelta(minutes=2))
    with pytest.raises(Forbidden):
        log_response(store, "i1", "resolve", Actor("reader", "viewer", "browser@10.0.0.3"), None, T0)
    found = get_incident(store, "i1")
    assert found is not None and found.status == "acknowledged"
    assert assignee(responses(store, "i1")) == "duty"
    trail = entries(store)
    assert [e.action for e in trail] == ["user-add", "user-add", "incident-acknowledge", "incident-assign"]
    assert all(isinstance(e.id, int) for e in trail) and len({e.id for e in trail}) == 4
    assert [e.id for e in trail] == sorted(e.id for e in trail)


def test_health_rows_tell_sources_from_the_watch_heartbeat(store: Store) -> None:
    record_success(store, "demo.jd", 12, T0)
    record_heartbeat(store, "watch", T0 + timedelta(minutes=1))
    jd, watch = source_health(store)
    assert (jd.source, jd.status, jd.last_items, jd.consecutive_failures, jd.is_heartbeat) == (
        "demo.jd",
        "ok",
        12,
        0,
        False,
    )
    assert watch.source == "koubei-watch" and watch.is_heartbeat and watch.last_run_at == T0 + timedelta(minutes=1)
