"""Alerts reach a real local HTTP receiver (pytest-httpserver) and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from alerts.config import load_alert_settings
from alerts.delivery import deliver_alerts
from alerts.detect import DetectSummary
from alerts.incidents import record
from storage import Store, open_store
from storage import incidents as inc
from storage.incidents import AspectRise, Incident, IncidentMention, SourceCount
from tests.alerts.conftest import settings_with

NOW = datetime(2026, 11, 23, 4, 0)  # 12:00 in Shanghai: outside any quiet hours below


def _incident(severity: int = 4, brand: str = "声浪", keywords: list[str] | None = None, **extra: Any) -> Incident:
    start = NOW - timedelta(hours=3)
    fields: dict[str, Any] = {
        "id": f"inc-{brand}-{severity}",
        "kind": "negative",
        "scope_type": "brand",
        "brand": brand,
        "scope_value": brand,
        "bucket": "1h",
        "window_start": start,
        "window_end": NOW,
        "peak_at": NOW - timedelta(hours=1),
        "observed": 120.0,
        "expected": 12.5,
        "score": 9.5,
        "factor": 9.6,
        "severity": severity,
        "reliable": True,
        "keywords": tuple(keywords if keywords is not None else ["发热", "电池", "<b>x</b>"]),
        "aspects": (AspectRise("质量", 80, 6.0),),
        "sources": (SourceCount("weibo", 70), SourceCount("jd", 50)),
        "rule": "negative-spike",
        "note": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Incident(**{**fields, **extra})


MENTIONS = [
    IncidentMention(1, "weibo", "1", "https://weibo.example/1", "充电宝发热冒烟，电话13812345678", NOW, 900, "neg"),
    IncidentMention(2, "jd", "2", "javascript:alert(1)", "电池鼓包 @channel <!here>", NOW, 50, "neg"),
]


def _open(store_path: Path) -> Callable[[], Store]:
    return lambda: open_store(store_path)


def _raise(
    factory: Callable[[], Store],
    alerts: dict[str, Any],
    incident: Incident,
    mentions: list[IncidentMention] | None = None,
    now: datetime = NOW,
) -> DetectSummary:
    cfg = load_alert_settings(settings_with(alerts))
    summary = DetectSummary()
    summary.add(record(factory, cfg, incident, list(mentions if mentions is not None else MENTIONS), now))
    return summary


def _webhook(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, answer: bool = True, **settings: Any
) -> dict[str, Any]:
    """[alerts] with one webhook channel "hook" at the local receiver (answering 200 unless
    `answer` is False), routed everything unless `settings` give routes."""
    monkeypatch.setenv("TEST_HOOK", httpserver.url_for("/hook"))
    if answer:
        httpserver.expect_request("/hook").respond_with_data("ok")
    return {
        "channels": {"hook": {"type": "webhook", "url_env": "TEST_HOOK"}},
        "routes": [{"name": "r", "channels": ["hook"]}],
        **settings,
    }


def _chat_alerts(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name in ("webhook", "wecom", "dingtalk", "feishu", "slack"):
        monkeypatch.setenv(f"TEST_{name.upper()}_URL", httpserver.url_for(f"/{name}"))
    monkeypatch.setenv("TEST_DINGTALK_SECRET", "SECdingtalk")
    monkeypatch.setenv("TEST_FEISHU_SECRET", "feishu-secret")
    channels = {
        name: {"type": name, "url_env": f"TEST_{name.upper()}_URL"}
        for name in ("webhook", "wecom", "dingtalk", "feishu", "slack")
    }
    channels["dingtalk"]["secret_env"] = "TEST_DINGTALK_SECRET"
    channels["feishu"]["secret_env"] = "TEST_FEISHU_SECRET"
    return {"channels": channels, "routes": [{"name": "all", "channels": list(channels)}]}


def test_every_chat_format_arrives_once_with_the_facts(
    db_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts = _chat_alerts(httpserver, monkeypatch)
    for name in ("webhook", "slack"):
        httpserver.expect_request(f"/{name}", method="POST").respond_with_data("ok")
    httpserver.expect_request("/wecom", method="POST").respond_with_json({"errcode": 0, "errmsg": "ok"})
    httpserver.expect_request("/dingtalk", method="POST").respond_with_json({"errcode": 0})
    httpserver.expect_request("/feishu", method="POST").respond_with_json({"code": 0})
    factory = _open(db_path)
    assert _raise(factory, alerts, _incident()).queued == 5
    summary = deliver_alerts(factory, settings_with(alerts), now=NOW)
    assert (summary.sent, summary.failed) == (5, 0), summary.errors
    bodies = {req.path: (req, json.loads(req.get_data())) for req, _ in httpserver.log}
    assert set(bodies) == {"/webhook", "/wecom", "/dingtalk", "/feishu", "/slack"}

    hook = bodies["/webhook"][1]
    assert hook["incident_id"] == "inc-声浪-4" and hook["kind"] == "negative" and hook["severity"] == 4
    assert hook["observed"] == 120.0 and hook["expected"] == 12.5 and hook["keywords"][:2] == ["发热", "电池"]
    assert hook["mentions"][0]["url"] == "https://weibo.example/1"
    assert hook["mentions"][1]["url"] is None  # only http/https links leave the system
    assert "13812345678" not in json.dumps(hook, ensure_ascii=False)  # masked
    assert bodies["/webhook"][0].headers["Idempotency-Key"]

    wecom = bodies["/wecom"][1]
    assert wecom["msgtype"] == "text"  # plain text: quoted posts cannot smuggle markdown
    text = wecom["text"]["content"]
    assert "负面激增" in text and "等级4" in text and "观测 120 vs 预期 12.5" in text and "发热" in text
    assert "138****5678" in text and "13812345678" not in text

    ding_req, ding = bodies["/dingtalk"]
    assert ding["msgtype"] == "text"
    query = urllib.parse.parse_qs(ding_req.query_string.decode())
    ts = query["timestamp"][0]
    digest = hmac.new(b"SECdingtalk", f"{ts}\nSECdingtalk".encode(), hashlib.sha256).digest()
    assert query["sign"][0] == base64.b64encode(digest).decode()

    feishu = bodies["/feishu"][1]
    assert feishu["msg_type"] == "text" and "负面激增" in feishu["content"]["text"]
    key = f"{feishu['timestamp']}\nfeishu-secret".encode()
    assert feishu["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()

    slack = bodies["/slack"][1]["text"]
    assert "<!here>" not in slack and "&lt;!here&gt;" in slack and "&lt;b&gt;x&lt;/b&gt;" in slack

    # Nothing is sent twice: a second delivery pass and a re-detection queue nothing new.
    assert deliver_alerts(factory, settings_with(alerts), now=NOW + timedelta(minutes=5)).sent == 0
    assert _raise(factory, alerts, _incident()).queued == 0
    assert len(httpserver.log) == 5


def test_channel_down_retries_and_delivers_exactly_once(
    db_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts = _webhook(httpserver, monkeypatch, answer=False, retry_base_seconds=60, max_attempts=3)
    factory = _open(db_path)
    _raise(factory, alerts, _incident())
    httpserver.expect_oneshot_request("/hook").respond_with_data("down", status=503)
    first = deliver_alerts(factory, settings_with(alerts), now=NOW)
    assert (first.sent, first.failed) == (0, 1) and "503" in first.errors[0]
    with factory() as store:
        row = inc.outbox_rows(store)[0]
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at == NOW + timedelta(seconds=60)
    # Not due yet: nothing happens.
    assert deliver_alerts(factory, settings_with(alerts), now=NOW + timedelta(seconds=30)).sent == 0
    httpserver.expect_request("/hook").respond_with_data("ok")
    assert deliver_alerts(factory, settings_with(alerts), now=NOW + timedelta(seconds=61)).sent == 1
    assert deliver_alerts(factory, settings_with(alerts), now=NOW + timedelta(hours=1)).sent == 0
    assert [resp.status_code for _, resp in httpserver.log] == [503, 200]
    with factory() as store:
        assert inc.outbox_rows(store, "sent")[0].sent_at == NOW + timedelta(seconds=61)


def test_unreachable_channel_gives_up_after_max_attempts_and_keeps_the_row(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TEST_HOOK", f"http://127.0.0.1:{port}/x")
    alerts = {
        "channels": {"hook": {"type": "webhook", "url_env": "TEST_HOOK", "timeout": 2}},
        "routes": [{"name": "r", "channels": ["hook"]}],
        "retry_base_seconds": 1,
        "max_attempts": 2,
    }
    factory = _open(db_path)
    _raise(factory, alerts, _incident())
    assert deliver_alerts(factory, settings_with(alerts), now=NOW).failed == 1
    assert deliver_alerts(factory, settings_with(alerts), now=NOW + timedelta(seconds=5)).dead == 1
    with factory() as store:
        dead = inc.outbox_rows(store, "dead")
    assert len(dead) == 1 and "Connection" in str(dead[0].last_error)


def test_missing_secret_fails_the_send_not_the_pass(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_UNSET_URL", raising=False)
    alerts = {
        "channels": {"hook": {"type": "wecom", "url_env": "TEST_UNSET_URL"}},
        "routes": [{"name": "r", "channels": ["hook"]}],
    }
    factory = _open(db_path)
    _raise(factory, alerts, _incident())
    result = deliver_alerts(factory, settings_with(alerts), now=NOW)
    assert result.failed == 1 and "TEST_UNSET_URL" in result.errors[0]


def test_routes_by_brand_kind_tier_and_keyword_group(
    db_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("pr", "cs", "ops"):
        monkeypatch.setenv(f"TEST_{name.upper()}", httpserver.url_for(f"/{name}"))
        httpserver.expect_request(f"/{name}").respond_with_data("ok")
    alerts = {
        "channels": {n: {"type": "webhook", "url_env": f"TEST_{n.upper()}"} for n in ("pr", "cs", "ops")},
        "keyword_groups": {"safety": ["发热", "起火"], "logistics": ["物流", "配送"]},
        "routes": [
            {"name": "safety", "channels": ["pr"], "keyword_groups": ["safety"], "min_tier": 3},
            {
                "name": "fresh-logistics",
                "channels": ["cs"],
                "brands": ["鲜到家"],
                "kinds": ["negative"],
                "keyword_groups": ["logistics"],
            },
            {"name": "red", "channels": ["ops"], "min_tier": 5},
        ],
    }
    factory = _open(db_path)
    _raise(factory, alerts, _incident(4, "声浪", ["发热", "电池"], id="a"))
    _raise(factory, alerts, _incident(3, "鲜到家", ["配送", "迟到"], id="b"), mentions=[])
    _raise(factory, alerts, _incident(2, "三号", ["起火"], id="c"), mentions=[])  # below the safety route's tier
    _raise(factory, alerts, _incident(5, "四号", ["包装"], id="d"), mentions=[])
    deliver_alerts(factory, settings_with(alerts), now=NOW)
    got = sorted((req.path, json.loads(req.get_data())["incident_id"]) for req, _ in httpserver.log)
    assert got == [("/cs", "b"), ("/ops", "d"), ("/pr", "a")]


def test_quiet_hours_hold_all_but_tier_5(
    db_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    route = {"name": "night", "channels": ["hook"], "quiet_hours": "22:00-08:00"}
    alerts = _webhook(httpserver, monkeypatch, timezone="Asia/Shanghai", routes=[route])
    night = datetime(2026, 11, 23, 17, 0)  # 01:00 in Shanghai
    factory = _open(db_path)
    _raise(factory, alerts, _incident(3, id="tier3", window_end=night), now=night)
    _raise(factory, alerts, _incident(5, "鲜到家", id="tier5", window_end=night), now=night)
    first = deliver_alerts(factory, settings_with(alerts), now=night)
    assert (first.sent, first.deferred) == (1, 1)
    assert [json.loads(r.get_data())["incident_id"] for r, _ in httpserver.log] == ["tier5"]
    with factory() as store:
        held = inc.outbox_rows(store, "pending")
    assert held[0].next_attempt_at == datetime(2026, 11, 24, 0, 0)  # 08:00 Shanghai
    assert held[0].attempts == 0  # holding is not a failed attempt
    assert deliver_alerts(factory, settings_with(alerts), now=datetime(2026, 11, 23, 23, 0)).sent == 0
    assert deliver_alerts(factory, settings_with(alerts), now=datetime(2026, 11, 24, 0, 1)).sent == 1


def test_growth_by_a_tier_re_escalates_once(
    db_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts = _webhook(httpserver, monkeypatch)
    factory = _open(db_path)
    assert _raise(factory, alerts, _incident(3, id="grow")).queued == 1
    assert _raise(factory, alerts, _incident(3, id="grow")).queued == 0
    grown = _raise(factory, alerts, _incident(4, id="grow", observed=400.0))
    assert grown.queued == 1 and grown.escalated == 1
    deliver_alerts(factory, settings_with(alerts), now=NOW)
    events = [json.loads(r.get_data())["event"] for r, _ in httpserver.log]
    assert sorted(events) == ["escalated:4", "opened"]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_email_over_real_smtp(db_path: Path, smtp_server: tuple[int, _Inbox]) -> None:
    port, inbox = smtp_server
    alerts = {
        "channels": {
            "mail": {
                "type": "email",
                "host": "127.0.0.1",
                "port": port,
                "from": "koubei@test.local",
                "to": ["pr@test.local", "cs@test.local"],
            }
        },
        "routes": [{"name": "r", "channels": ["mail"]}],
    }
    factory = _open(db_path)
    _raise(factory, alerts, _incident(5))
    assert deliver_alerts(factory, settings_with(alerts), now=NOW).sent == 1
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert sorted(envelope.rcpt_tos) == ["cs@test.local", "pr@test.local"]
    msg = message_from_bytes(envelope.content, policy=policy.default)
    assert "等级5" in msg["Subject"] and "声浪" in msg["Subject"]
    assert msg["X-Koubei-Incident"] == "inc-声浪-5"
    body = msg.get_content()
    assert "红色警戒" in body and "观测 120 vs 预期 12.5" in body and "https://weibo.example/1" in body
    assert "138****5678" in body and "13812345678" not in body and "javascript:" not in body
    assert deliver_alerts(factory, settings_with(alerts), now=NOW + timedelta(minutes=1)).sent == 0
    assert len(inbox.messages) == 1


def test_demo_crisis_reaches_the_receiver_once_without_an_alert_storm(
    demo_db: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full path on the demo data: detect -> route -> outbox -> HTTP. The crisis shows up as
    brand, product, source and aspect incidents, plus a volume spike; one alert goes out."""
    from alerts.detect import detect_incidents
    from tests.alerts.conftest import DEMO_NOW

    route = {"name": "safety", "channels": ["hook"], "keyword_groups": ["safety"], "min_tier": 3}
    alerts = _webhook(httpserver, monkeypatch, keyword_groups={"safety": ["发热", "发烫", "冒烟"]}, routes=[route])
    factory = _open(demo_db)
    summary = detect_incidents(factory, settings_with(alerts), now=DEMO_NOW)
    assert summary.opened >= 4
    sent = deliver_alerts(factory, settings_with(alerts), now=DEMO_NOW)
    assert sent.sent == summary.queued == 1, (summary.line(), sent.line())
    ((request, _),) = httpserver.log
    body = json.loads(request.get_data())
    assert body["brand"] == "声浪" and body["kind"] == "negative" and body["scope_type"] == "brand"
    assert body["severity"] >= 4 and {"发热", "发烫"} & set(body["keywords"])
    assert body["mentions"] and body["mentions"][0]["reach"] >= body["mentions"][-1]["reach"]
    # The next pass over the same data sends nothing new.
    detect_incidents(factory, settings_with(alerts), now=DEMO_NOW)
    assert deliver_alerts(factory, settings_with(alerts), now=DEMO_NOW).sent == 0
