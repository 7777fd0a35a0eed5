"""The [alerts] section of koubei.toml, parsed once into typed settings.

Detector thresholds are given per rule ([alerts.rules.NAME]); a rule picks a
detector kind, the scopes it watches and a bucket length. Channels name the
environment variables holding their URLs and secrets, never the secrets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import time, timedelta
from typing import Any

from alerts.detectors import NegativeParams, VolumeParams
from alerts.events import SeverityRules
from koubei.config import Settings
from koubei.errors import ConfigError

SCOPE_TYPES = ("brand", "product", "source", "aspect")
CHANNEL_TYPES = ("webhook", "wecom", "dingtalk", "feishu", "slack", "email")
_DURATION = re.compile(r"^(\d+)\s*([smhd])$")


def parse_duration(text: str | int, where: str) -> timedelta:
    if isinstance(text, int):
        return timedelta(seconds=text)
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ConfigError(f"{where}: {text!r} is not a duration like 5m, 1h or 1d")
    n, unit = int(match.group(1)), match.group(2)
    return timedelta(seconds=n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # volume | negative
    scopes: tuple[str, ...]
    bucket: timedelta
    volume: VolumeParams = VolumeParams()
    negative: NegativeParams = NegativeParams()

    @property
    def bucket_seconds(self) -> int:
        return int(self.bucket.total_seconds())

    @property
    def period(self) -> int:
        """Buckets per day for the daily rhythm; 0 when a bucket is a day or longer."""
        per_day = 86400 // self.bucket_seconds
        return per_day if per_day >= 2 else 0

    @property
    def cooldown(self) -> int:
        return self.volume.cooldown if self.kind == "volume" else self.negative.cooldown


@dataclass(frozen=True)
class Route:
    name: str
    channels: tuple[str, ...]
    brands: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    keyword_groups: tuple[str, ...] = ()
    min_tier: int = 2
    quiet_hours: tuple[time, time] | None = None


@dataclass(frozen=True)
class Channel:
    name: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertSettings:
    rules: tuple[Rule, ...]
    routes: tuple[Route, ...] = ()
    channels: dict[str, Channel] = field(default_factory=dict)
    keyword_groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    severity: SeverityRules = SeverityRules()
    lookback: timedelta = timedelta(days=28)
    timezone: str = "Asia/Shanghai"
    max_attempts: int = 6
    retry_base_seconds: float = 30.0
    silence_hours: float = 6.0  # a source silent this long while it usually delivers is down
    silence_min_expected: float = 20.0  # ... and it usually delivers at least this many in that time
    merge_gap: timedelta = timedelta(hours=6)  # a burst this close to an open incident extends it
    top_mentions: int = 20

    def rule(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise ConfigError(f"[alerts.rules]: no rule named {name!r}; known: {', '.join(r.name for r in self.rules)}")


# Defaults for hourly buckets (what the demo and most brands need); NAB's 5-minute
# evaluation uses VolumeParams() as is.
HOURLY_VOLUME = VolumeParams(
    smooth=1, scale_halflife=168.0, tail_halflife=168.0, cooldown=24, transform="sqrt", scale_floor=0.5
)
HOURLY_NEGATIVE = NegativeParams(windows=(1, 3, 12), share_halflife=168.0, cooldown=12)
DEFAULT_RULES = (
    Rule("negative-spike", "negative", SCOPE_TYPES, timedelta(hours=1), negative=HOURLY_NEGATIVE),
    Rule("volume-spike", "volume", ("brand",), timedelta(hours=1), volume=HOURLY_VOLUME),
)


def _params(cls: type, base: Any, raw: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key in ("kind", "scopes", "bucket"):
            continue
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r}; known: {', '.join(sorted(known))}")
        values[key] = tuple(value) if isinstance(value, list) else value
    return replace(base, **values)


def _hhmm(text: str, where: str) -> time:
    try:
        h, m = text.strip().split(":")
        return time(int(h), int(m))
    except ValueError as exc:
        raise ConfigError(f"{where}: quiet_hours must look like 22:00-08:00") from exc


def load_alert_settings(settings: Settings) -> AlertSettings:
    raw = settings.section("alerts")
    rules = list(DEFAULT_RULES)
    for name, spec in (raw.get("rules") or {}).items():
        where = f"[alerts.rules.{name}]"
        kind = spec.get("kind", "negative")
        if kind not in ("volume", "negative"):
            raise ConfigError(f"{where}: kind must be volume or negative, not {kind!r}")
        scopes = tuple(spec.get("scopes", ["brand"]))
        for s in scopes:
            if s not in SCOPE_TYPES:
                raise ConfigError(f"{where}: unknown scope {s!r}; known: {', '.join(SCOPE_TYPES)}")
        bucket = parse_duration(spec.get("bucket", "1h"), where)
        base = next((r for r in rules if r.name == name), None)
        vol = (
            _params(VolumeParams, base.volume if base else HOURLY_VOLUME, spec, where)
            if kind == "volume"
            else HOURLY_VOLUME
        )
        neg = (
            _params(NegativeParams, base.negative if base else HOURLY_NEGATIVE, spec, where)
            if kind == "negative"
            else HOURLY_NEGATIVE
        )
        rule = Rule(name, kind, scopes, bucket, vol, neg)
        rules = [r for r in rules if r.name != name] + [rule]
    channels = {}
    for name, spec in (raw.get("channels") or {}).items():
        ctype = spec.get("type", "webhook")
        if ctype not in CHANNEL_TYPES:
            raise ConfigError(f"[alerts.channels.{name}]: type must be one of {', '.join(CHANNEL_TYPES)}")
        channels[name] = Channel(name, ctype, dict(spec))
    routes: list[Route] = []
    for spec in raw.get("routes") or []:
        name = spec.get("name") or f"route{len(routes) + 1}"
        where = f"[[alerts.routes]] {name}"
        for ch in spec.get("channels", []):
            if ch not in channels:
                raise ConfigError(f"{where}: unknown channel {ch!r}")
        quiet = None
        if spec.get("quiet_hours"):
            a, _, b = str(spec["quiet_hours"]).partition("-")
            quiet = (_hhmm(a, where), _hhmm(b, where))
        routes.append(
            Route(
                name,
                tuple(spec.get("channels", [])),
                tuple(spec.get("brands", [])),
                tuple(spec.get("kinds", [])),
                tuple(spec.get("keyword_groups", [])),
                int(spec.get("min_tier", 2)),
                quiet,
            )
        )
    groups = {k: tuple(v) for k, v in (raw.get("keyword_groups") or {}).items()}
    for route in routes:
        for g in route.keyword_groups:
            if g not in groups:
                raise ConfigError(f"[[alerts.routes]] {route.name}: unknown keyword group {g!r}")
    sev = _params(SeverityRules, SeverityRules(), raw.get("severity") or {}, "[alerts.severity]")
    return AlertSettings(
        rules=tuple(rules),
        routes=tuple(routes),
        channels=channels,
        keyword_groups=groups,
        severity=sev,
        lookback=timedelta(days=float(raw.get("lookback_days", 28))),
        timezone=str(raw.get("timezone", "Asia/Shanghai")),
        max_attempts=int(raw.get("max_attempts", 6)),
        retry_base_seconds=float(raw.get("retry_base_seconds", 30)),
        silence_hours=float(raw.get("silence_hours", 6)),
        silence_min_expected=float(raw.get("silence_min_expected", 20)),
        merge_gap=parse_duration(raw.get("merge_gap", "6h"), "[alerts] merge_gap"),
    )
