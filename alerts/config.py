"""The [alerts] section of koubei.toml, resolved into what detection and delivery use.

The tables are read and checked with the rest of the file (koubei/settings/alerts.py);
here a rule's unset thresholds are filled in from the built-in rule of the same
name or the hourly defaults, and the severity tiers from alerts.events. Channels
name the environment variables holding their URLs and secrets, never the secrets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import time, timedelta
from typing import Any, get_args

from alerts.detectors import NegativeParams, VolumeParams
from alerts.events import SeverityRules
from koubei.config import Settings
from koubei.errors import ConfigError
from koubei.settings.alerts import RuleTable, Scope
from koubei.settings.types import duration_text


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
    brands: tuple[str, ...]
    kinds: tuple[str, ...]
    keyword_groups: tuple[str, ...]
    min_tier: int
    quiet_hours: tuple[time, time] | None


@dataclass(frozen=True)
class Channel:
    name: str
    type: str
    options: dict[str, Any]  # the keys of its table, by their names in the file (alerts/channels.py reads them)


@dataclass(frozen=True)
class AlertSettings:
    """[alerts] as detection and delivery use it; the defaults are those of koubei/settings/alerts.py."""

    rules: tuple[Rule, ...]
    routes: tuple[Route, ...]
    channels: dict[str, Channel]
    keyword_groups: dict[str, tuple[str, ...]]
    severity: SeverityRules
    lookback: timedelta
    timezone: str
    max_attempts: int
    retry_base_seconds: float
    silence_hours: float  # a source silent this long while it usually delivers is down
    silence_min_expected: float  # ... and it usually delivers at least this many in that time
    merge_gap: timedelta  # a burst this close to an open incident extends it
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
    Rule("negative-spike", "negative", get_args(Scope), timedelta(hours=1), negative=HOURLY_NEGATIVE),
    Rule("volume-spike", "volume", ("brand",), timedelta(hours=1), volume=HOURLY_VOLUME),
)


def _rule(name: str, table: RuleTable, base: Rule | None) -> Rule:
    """A rule from its table: what the table leaves out comes from the built-in rule it overrides."""
    kind = table.kind or (base.kind if base else "negative")
    scopes = table.scopes or (base.scopes if base else ("brand",))
    bucket = timedelta(seconds=table.bucket.total_seconds()) if table.bucket else None
    volume = base.volume if base else HOURLY_VOLUME
    negative = base.negative if base else HOURLY_NEGATIVE
    if kind == "volume":
        volume = replace(volume, **table.thresholds())
    else:
        negative = replace(negative, **table.thresholds())
    return Rule(name, kind, scopes, bucket or (base.bucket if base else timedelta(hours=1)), volume, negative)


def load_alert_settings(settings: Settings) -> AlertSettings:
    alerts = settings.alerts
    builtin = {rule.name: rule for rule in DEFAULT_RULES}
    rules = {**builtin, **{name: _rule(name, table, builtin.get(name)) for name, table in alerts.rules.items()}}
    routes = tuple(
        Route(
            route.name or f"route{index}",
            route.channels,
            route.brands,
            route.kinds,
            route.keyword_groups,
            route.min_tier,
            (route.quiet_hours.start, route.quiet_hours.end) if route.quiet_hours else None,
        )
        for index, route in enumerate(alerts.routes, start=1)
    )
    return AlertSettings(
        rules=tuple(rules.values()),
        routes=routes,
        channels={name: Channel(name, table.type, table.given()) for name, table in alerts.channels.items()},
        keyword_groups=dict(alerts.keyword_groups),
        severity=replace(SeverityRules(), **alerts.severity.given()),
        lookback=timedelta(days=alerts.lookback_days),
        timezone=str(alerts.timezone),
        max_attempts=alerts.max_attempts,
        retry_base_seconds=alerts.retry_base_seconds,
        silence_hours=alerts.silence_hours,
        silence_min_expected=alerts.silence_min_expected,
        merge_gap=timedelta(seconds=alerts.merge_gap.total_seconds()),
    )


def rule_tables(cfg: AlertSettings) -> dict[str, Any]:
    """The rules as resolved (built-in ones included) and the severity tiers, as the [alerts.rules.NAME]
    and [alerts.severity] tables that would say so (`koubei config check`)."""
    rules = {
        rule.name: {
            "kind": rule.kind,
            "scopes": list(rule.scopes),
            "bucket": duration_text(rule.bucket),
            **asdict(rule.volume if rule.kind == "volume" else rule.negative),
        }
        for rule in cfg.rules
    }
    return {"rules": rules, "severity": asdict(cfg.severity)}
