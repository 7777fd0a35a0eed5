"""Secrets are never stored or shown: failing channels and sources leave no key, token, cookie or
password in the database file, the logs or the command's output (koubei/redaction.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from koubei.context import AppContext
from koubei.pipeline import PassSummary
from koubei.redaction import redact, remember
from koubei.watch import watch
from storage import open_store
from storage.incidents import Incident, OutboxRow, enqueue, save_incident

KOUBEI = str(Path(sys.executable).with_name("koubei"))
NOW = datetime(2026, 11, 23, 4, 0)


def dead_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _channels(port: int) -> tuple[str, dict[str, str], list[str]]:
    """koubei.toml channels of every type, the environment holding their URLs and secrets, and the secrets."""
    base = f"http://127.0.0.1:{port}"
    env = {
        "T_WEBHOOK_URL": f"{base}/ingest?token=whTokenA1b2C3d4E5",
        "T_WECOM_URL": f"{base}/cgi-bin/webhook/send?key=693a91f6-7a2e-4bc4-97a0-0ec2wecomK3y",
        "T_DINGTALK_URL": f"{base}/robot/send?access_token=dingAccessT0ken9f8e7d6c",
        "T_DINGTALK_SECRET": "SECdingSigningSecret0a1b2c3d4e5f",
        "T_FEISHU_URL": f"{base}/open-apis/bot/v2/hook/2f3b9c0e-feis-4567-89ab-cdefFeishuH00k",
        "T_SLACK_URL": f"{base}/services/T0SLACKTEAM/B0SLACKBOT/slackHookPathSecret123",
        "T_SMTP_USER": "alerts@example.com",
        "T_SMTP_PASSWORD": "smtpPassw0rdXyz987",
    }
    secrets = [
        "whTokenA1b2C3d4E5",
        "693a91f6-7a2e-4bc4-97a0-0ec2wecomK3y",
        "dingAccessT0ken9f8e7d6c",
        "SECdingSigningSecret0a1b2c3d4e5f",
        "2f3b9c0e-feis-4567-89ab-cdefFeishuH00k",
        "slackHookPathSecret123",
        "smtpPassw0rdXyz987",
    ]
    config = "\n".join(
        [
            "[alerts]\nmax_attempts = 1\n",
            '[alerts.channels.hook]\ntype = "webhook"\nurl_env = "T_WEBHOOK_URL"\ntimeout = 2\n',
            '[alerts.channels.wecom]\ntype = "wecom"\nurl_env = "T_WECOM_URL"\ntimeout = 2\n',
            '[alerts.channels.ding]\ntype = "dingtalk"\nurl_env = "T_DINGTALK_URL"\nsecret_env = "T_DINGTALK_SECRET"\n',
            '[alerts.channels.feishu]\ntype = "feishu"\nurl_env = "T_FEISHU_URL"\n',
            '[alerts.channels.slack]\ntype = "slack"\nurl_env = "T_SLACK_URL"\n',
            f'[alerts.channels.mail]\ntype = "email"\nhost = "127.0.0.1"\nport = {port}\nto = ["a@example.com"]\n'
            'username_env = "T_SMTP_USER"\npassword_env = "T_SMTP_PASSWORD"\n',
            '[[alerts.routes]]\nname = "all"\nchannels = ["hook", "wecom", "ding", "feishu", "slack", "mail"]\n',
        ]
    )
    return config, env, secrets


def _queue(db: Path, channels: list[str]) -> None:
    incident = Incident(
        id="i1", kind="negative", scope_type="brand", brand="声浪", scope_value="声浪", bucket="1h",
        window_start=NOW, window_end=NOW, peak_at=NOW, observed=50, expected=5, score=9, severity=5,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    payload = {
        "incident_id": "i1", "kind": "negative", "scope_type": "brand", "brand": "声浪", "scope_value": "声浪",
        "window_start": str(NOW), "window_end": str(NOW), "peak_at": str(NOW), "observed": 50.0, "expected": 5.0,
        "factor": 10.0, "score": 9.0, "severity": 5, "mentions": [],
    }  # fmt: skip
    with open_store(db) as store:
        save_incident(store, incident, [])
        for channel in channels:
            enqueue(
                store,
                OutboxRow(id=f"o-{channel}", incident_id="i1", channel=channel, route="all", event="opened",
                          severity=5, payload=payload, next_attempt_at=NOW, created_at=NOW),
            )  # fmt: skip


def _leaks(secrets: list[str], *texts: str | bytes) -> list[str]:
    """The secrets found in any of `texts` (text or a file's bytes)."""
    found = []
    for secret in secrets:
        for text in texts:
            if (secret.encode() in text) if isinstance(text, bytes) else (secret in text):
                found.append(secret)
    return found


def test_failing_channels_store_and_print_no_secret(tmp_path: Path) -> None:
    """Regression (issue 17, item 4): a failing WeCom webhook stored and printed its full URL with
    key=... (DingTalk token=..., Slack and Feishu hook paths) in alert_outbox.last_error."""
    port = dead_port()
    config, env, secrets = _channels(port)
    (tmp_path / "koubei.toml").write_text(config, encoding="utf-8")
    db = tmp_path / "k.duckdb"
    _queue(db, ["hook", "wecom", "ding", "feishu", "slack", "mail"])
    result = subprocess.run(
        [KOUBEI, "--db", str(db), "--config", str(tmp_path / "koubei.toml"), "alerts", "--outbox"],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "COLUMNS": "400"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "0 alerts sent" in result.stdout and "6 gave up" in result.stdout
    with open_store(db, read_only=True) as store:
        errors = [row[0] for row in store.query("SELECT last_error FROM alert_outbox ORDER BY id")]
    assert all(errors) and len(errors) == 6
    assert f"127.0.0.1:{port}" in " ".join(errors)  # still says where it failed
    wal = Path(str(db) + ".wal")
    assert (
        _leaks(secrets, result.stdout, result.stderr, db.read_bytes(), wal.read_bytes() if wal.exists() else b"") == []
    )


def test_a_failing_source_stores_and_prints_no_key_from_its_url(tmp_path: Path, httpserver: HTTPServer) -> None:
    """A source whose site answers 503 named the page's full URL, API key included, in its error."""
    httpserver.expect_request("/rss").respond_with_data("busy", status=503)
    secret = "feedApiKey0123456789abcd"
    config = tmp_path / "koubei.toml"
    config.write_text(
        f'[sources.news]\nkind = "feed"\nfeeds = ["{httpserver.url_for("/rss")}?apikey={secret}"]\n'
        'robots = false\nretries = 0\ntimeout = 2\ncookie_env = "T_FEED_COOKIE"\n',
        encoding="utf-8",
    )
    db = tmp_path / "k.duckdb"
    result = subprocess.run(
        [KOUBEI, "--db", str(db), "--config", str(config), "collect", "news"],
        capture_output=True,
        text=True,
        env={**os.environ, "T_FEED_COOKIE": "SESSDATA=cookieValue98765", "COLUMNS": "400"},
        timeout=120,
    )
    assert result.returncode == 1 and "unavailable" in result.stdout
    with open_store(db, read_only=True) as store:
        stored = store.query("SELECT last_error FROM source_health UNION ALL SELECT error FROM collect_runs")
    assert len(stored) == 2 and all("HTTP 503 from http://localhost" in row[0] for row in stored), stored
    secrets = [secret, "cookieValue98765"]
    assert _leaks(secrets, result.stdout, result.stderr, db.read_bytes(), str(stored)) == []


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("https://user:hunter2pass@example.com:8443/p?x=1#access_token=abc", "hunter2pass", "example.com:8443/p"),
        ("https://example.com/p#access_token=fragmentToken1", "fragmentToken1", "https://example.com/p"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9", "Authorization"),
        ("Cookie: SESSDATA=abc123def; buvid3=xyz", "abc123def", "Cookie"),
        ("Set-Cookie: sid=s3ss10nvalue; Path=/", "s3ss10nvalue", "Set-Cookie"),
        ("X-Api-Key: k3yValue0987", "k3yValue0987", "X-Api-Key"),
        ("login failed: password=hunter22pw for admin", "hunter22pw", "for admin"),
        (
            "https://discord.com/api/webhooks/1234567/abcdefABCDEF-ghij_klmnop",
            "abcdefABCDEF-ghij_klmnop",
            "discord.com",
        ),
        ("https://api.telegram.org/bot123456:ABC-DEF1234ghIkl/sendMessage", "ABC-DEF1234ghIkl", "api.telegram.org"),
        ("https://example.com/files/9f8e7d6c5b4a39281706abcd/x", "9f8e7d6c5b4a39281706abcd", "/files/"),
        ("https://example.com/api?k=9f8e7d6c5b4a39281706abcdef&page=2", "9f8e7d6c5b4a39281706abcdef", "page=2"),
        ("https://s3.example.com/o?X-Amz-Signature=abc123&X-Amz-Credential=AKIA1", "abc123", "X-Amz-Signature="),
    ],
)
def test_redact_masks_credentials_and_keeps_where(text: str, secret: str, kept: str) -> None:
    shown = redact(text)
    assert secret not in shown and kept in shown


@pytest.mark.parametrize(
    "text",
    [
        "data/exports/2026-11-reviews_final_v2.csv, row 3, column 'time' (published_at): cannot read 'x'",
        "话题#声浪耳机# 太差了 #12",
        "HTTP 503 from https://club.jd.com/comment/list.action: retrying",
        "HTTP 404 from https://club.jd.com/c.action?callback=fetchJSON_comment98&productId=100012043978&page=2",
        "channel ops: HTTP 500 internal error",
    ],
)
def test_redact_leaves_ordinary_messages_alone(text: str) -> None:
    assert redact(text) == text


def test_a_remembered_secret_is_masked_wherever_it_turns_up() -> None:
    remember("https://hooks.example.com/x?sig=rememberedSig42&y=2")
    remember("pw")  # too short to mask safely: ordinary text keeps its "pw"
    shown = redact("server said: 535 bad credentials rememberedSig42 (pw)")
    assert "rememberedSig42" not in shown and "(pw)" in shown


def test_a_proxy_without_credentials_masks_no_url_of_its_host() -> None:
    """Regression: a proxy read as http://127.0.0.1:PORT was remembered whole, so every later error
    naming a page on that host (another source, the same process) read "from ***/jd/..."."""
    remember("http://127.0.0.1:39917")
    remember("http://user:proxyPass77@10.0.0.9:3128")
    shown = redact("jd: comments[0] from http://127.0.0.1:39917/jd/comment?page=0: content: expected `str`")
    assert "from http://127.0.0.1:39917/jd/comment?page=0:" in shown
    assert "proxyPass77" not in redact("proxy error at http://user:proxyPass77@10.0.0.9:3128 (proxyPass77)")


def test_the_watch_log_shows_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (issue 17, item 4): `koubei watch` logged a failing pass's error (a source's URL
    with its key) as it was. Every line it writes now goes through redact, delivery of a scheduled
    report to failing channels included."""
    port = dead_port()
    config, env, secrets = _channels(port)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    report = '[[reports]]\nname = "daily"\nschedule = "every day 00:00 UTC"\nperiod = "week"\nformat = "html"\n'
    report += f'channels = ["wecom", "ding", "mail"]\noutput_dir = "{tmp_path / "reports"}"\n'
    (tmp_path / "koubei.toml").write_text(f'{config}\n{report}\n[sources.shop]\nkind = "demo"\n', encoding="utf-8")

    def failing_pass(ctx: AppContext, sources: list[str]) -> PassSummary:
        raise RuntimeError(f"request to {env['T_WECOM_URL']} failed: connection refused")

    lines: list[str] = []
    state = watch(
        AppContext(config_path=tmp_path / "koubei.toml", db=tmp_path / "k.duckdb"),
        run_pass=failing_pass,
        max_passes=1,
        log=lines.append,
        install_signals=False,
    )
    assert any("pass failed" in line and f"127.0.0.1:{port}/cgi-bin" in line for line in lines), lines
    assert any("gave up" in line or "failed" in line for line in lines if "pass failed" not in line), lines
    assert _leaks(secrets, *lines, *state.errors) == [], lines
