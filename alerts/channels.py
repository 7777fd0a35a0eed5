"""Notification channels: message formats and delivery.

Formats: a generic JSON webhook (the incident's facts as is), WeCom (企业微信),
DingTalk (钉钉), Feishu (飞书) and Slack robot messages, and plain-text e-mail over
SMTP. Chat messages use the plain-text message types on purpose: the text
quotes strangers' posts, and markdown types would render links, images or
mentions smuggled into them. Quoted text is masked (koubei.privacy.mask_pii).

URLs, robot secrets and SMTP passwords come from environment variables named
in koubei.toml (`url_env`, `secret_env`, `password_env`). A webhook URL is a
credential: every error raised here goes through koubei.redaction.redact.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import time
import urllib.parse
from email.message import EmailMessage
from typing import Any

import requests

from alerts.config import Channel
from koubei.config import secret
from koubei.errors import KoubeiError
from koubei.privacy import mask_pii
from koubei.redaction import redact, remember

TIER_NAMES = {1: "建议/表扬", 2: "普通", 3: "紧急", 4: "关键", 5: "红色警戒"}
KIND_NAMES = {"negative": "负面激增", "volume": "声量激增", "source_down": "数据源中断"}
TIMEOUT = 10.0


class DeliveryError(KoubeiError):
    """A channel refused or could not be reached; the outbox retries."""


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def render_text(p: dict[str, Any]) -> str:
    """The alert as plain text, built only from stored facts."""
    tier = int(p.get("severity", 2))
    event = str(p.get("event", ""))
    head = "升级 " if event.startswith("escalated") else ""
    if event.startswith("assigned:"):
        head = f"指派给 {_clip(event.removeprefix('assigned:'), 60)} "
    lines = [
        f"[koubei] {head}{KIND_NAMES.get(p['kind'], p['kind'])} · 等级{tier} {TIER_NAMES.get(tier, '')}",
        f"范围: {p.get('brand') or '-'} / {p['scope_type']}={p['scope_value']}",
        f"时间: {p['window_start']} ~ {p['window_end']} UTC (峰值 {p['peak_at']})",
        f"观测 {p['observed']:.0f} vs 预期 {p['expected']:.1f} (×{p.get('factor') or 0:.1f}, z={p['score']:.1f})",
    ]
    if not p.get("reliable", True):
        lines.append(f"注意: 数据不完整 ({p.get('note') or '数据源异常'})")
    if p.get("keywords"):
        lines.append("关键词: " + "、".join(mask_pii(str(k)) for k in p["keywords"][:8]))
    if p.get("aspects"):
        lines.append("方面: " + "、".join(f"{a['aspect']} {a['observed']}" for a in p["aspects"][:5]))
    if p.get("sources"):
        lines.append("来源: " + "、".join(f"{s['source']} {s['count']}" for s in p["sources"][:5]))
    for m in p.get("mentions", [])[:3]:
        url = m.get("url") or ""
        link = url if url.startswith(("http://", "https://")) else ""
        lines.append(f"- {_clip(mask_pii(m.get('text') or ''), 80)} {link}".rstrip())
    lines.append(f"事件ID: {p['incident_id']}")
    return "\n".join(lines)


def _slack_escape(text: str) -> str:
    # Slack's documented escaping for message text: only &, < and > are control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_message(channel_type: str, p: dict[str, Any]) -> dict[str, Any]:
    """The JSON body for a chat or webhook channel."""
    if channel_type == "webhook":
        return {"source": "koubei", **p}
    return chat_message(channel_type, render_text(p))


def chat_message(channel_type: str, text: str) -> dict[str, Any]:
    """A chat robot's plain-text message."""
    if channel_type == "wecom":
        return {"msgtype": "text", "text": {"content": text}}
    if channel_type == "dingtalk":
        return {"msgtype": "text", "text": {"content": text}}
    if channel_type == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    if channel_type == "slack":
        return {"text": _slack_escape(text)}
    raise ValueError(f"no JSON format for channel type {channel_type!r}")


def _dingtalk_url(url: str, sign_secret: str | None) -> str:
    if not sign_secret:
        return url
    ts = str(int(time.time() * 1000))
    digest = hmac.new(sign_secret.encode(), f"{ts}\n{sign_secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def _feishu_sign(body: dict[str, Any], sign_secret: str | None) -> dict[str, Any]:
    if not sign_secret:
        return body
    ts = str(int(time.time()))
    key = f"{ts}\n{sign_secret}".encode()
    sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return {"timestamp": ts, "sign": sign, **body}


def _check_chat_reply(channel: Channel, response: requests.Response) -> None:
    if response.status_code >= 300:
        raise DeliveryError(redact(f"channel {channel.name}: HTTP {response.status_code} {_clip(response.text, 200)}"))
    if channel.type in ("wecom", "dingtalk", "feishu"):
        # These robots answer 200 with an error code in the body when they refuse a message.
        try:
            reply = response.json()
        except ValueError:
            return
        code = reply.get("errcode", reply.get("code", 0)) if isinstance(reply, dict) else 0
        if code not in (0, None):
            raise DeliveryError(redact(f"channel {channel.name}: refused with code {code}: {_clip(str(reply), 200)}"))


def send(channel: Channel, payload: dict[str, Any], idempotency_key: str) -> None:
    """Deliver one alert; raises DeliveryError (or ConfigError for a missing secret)."""
    if channel.type == "email":
        _send_email(channel, payload)
        return
    post(channel, format_message(channel.type, payload), idempotency_key)


def post(channel: Channel, body: dict[str, Any], idempotency_key: str) -> None:
    """POST a JSON body to a chat or webhook channel (signed where the robot wants it)."""
    opts = channel.options
    url = opts.get("url") or secret(str(opts.get("url_env", f"KOUBEI_{channel.name.upper()}_URL")))
    sign_secret = secret(str(opts["secret_env"])) if opts.get("secret_env") else None
    remember(str(url))
    remember(sign_secret)
    if channel.type == "dingtalk":
        url = _dingtalk_url(str(url), sign_secret)
    elif channel.type == "feishu":
        body = _feishu_sign(body, sign_secret)
    try:
        response = requests.post(
            str(url),
            json=body,
            timeout=float(opts.get("timeout", TIMEOUT)),
            headers={"Idempotency-Key": idempotency_key, "User-Agent": "koubei-alerts"},
        )
    except requests.RequestException as exc:
        raise DeliveryError(redact(f"channel {channel.name}: {type(exc).__name__}: {exc}")) from None
    _check_chat_reply(channel, response)


def new_email(channel: Channel) -> EmailMessage:
    """A message from the channel's sender to its recipients (subject and content to be set)."""
    opts = channel.options
    to = opts.get("to") or []
    if isinstance(to, str):
        to = [to]
    if not to:
        raise DeliveryError(f"channel {channel.name}: no recipients (to = [...])")
    msg = EmailMessage()
    msg["From"] = str(opts.get("from", "koubei@localhost"))
    msg["To"] = ", ".join(to)
    return msg


def _send_email(channel: Channel, payload: dict[str, Any]) -> None:
    msg = new_email(channel)
    tier = int(payload.get("severity", 2))
    msg["Subject"] = (
        f"[koubei] 等级{tier} {KIND_NAMES.get(payload['kind'], payload['kind'])}: "
        f"{payload.get('brand') or ''} {payload['scope_value']}"
    )
    msg["X-Koubei-Incident"] = str(payload["incident_id"])
    msg.set_content(render_text(payload))
    send_email(channel, msg)


def send_email(channel: Channel, msg: EmailMessage) -> None:
    """Hand a message to the channel's SMTP server."""
    opts = channel.options
    host = str(opts.get("host", "localhost"))
    port = int(opts.get("port", 25))
    try:
        with smtplib.SMTP(host, port, timeout=float(opts.get("timeout", TIMEOUT))) as smtp:
            if opts.get("starttls"):
                smtp.starttls()
            if opts.get("username_env"):
                username = secret(str(opts["username_env"])) or ""
                password = secret(str(opts.get("password_env", ""))) or ""
                remember(password)
                smtp.login(username, password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(redact(f"channel {channel.name}: SMTP {host}:{port}: {exc}")) from None
