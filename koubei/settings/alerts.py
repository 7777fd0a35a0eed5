"""[alerts]: detection rules, severity tiers, keyword groups, channels and routes.

A rule's detector thresholds left out keep their value from the built-in rule of
the same name, or the hourly defaults for a new rule (alerts/config.py), so
these tables say only what is allowed; alerts/config.py resolves them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from koubei.settings.errors import suggest
from koubei.settings.types import BucketLength, EnvName, MergeGap, QuietHours, Table, Text, TimeZoneName

Scope = Literal["brand", "product", "source", "aspect"]
Kind = Literal["volume", "negative"]
ChannelType = Literal["webhook", "wecom", "dingtalk", "feishu", "slack", "email"]
# The kind of each built-in rule: a table of that name overrides it and keeps its kind unless it says otherwise.
BUILTIN_RULE_KINDS: dict[str, Kind] = {"negative-spike": "negative", "volume-spike": "volume"}

Buckets = Annotated[int, msgspec.Meta(ge=0, le=100_000, description="buckets")]
HalfLife = Annotated[float, msgspec.Meta(ge=1, le=1_000_000, description="buckets")]
Count = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]
Factor = Annotated[float, msgspec.Meta(ge=1, le=1000)]
Tier = Annotated[int, msgspec.Meta(ge=2, le=5, description="tier")]


class RuleTable(Table):
    """[alerts.rules.NAME]; unset keys keep the built-in rule's value (or the defaults of a new rule)."""

    kind: Kind | None = None  # default: the built-in rule's kind, else negative
    scopes: Annotated[tuple[Scope, ...], msgspec.Meta(min_length=1)] | None = None  # default ["brand"]
    bucket: BucketLength | None = None  # default 1h
    # Both detectors
    z_min: Annotated[float, msgspec.Meta(ge=0.5, le=100)] | None = None  # the least z that can alarm
    cooldown: Buckets | None = None  # buckets after an onset in which the same burst does not alarm again
    # Volume detector
    smooth: Annotated[int, msgspec.Meta(ge=1, le=1000, description="buckets")] | None = None
    season_days: Annotated[int, msgspec.Meta(ge=1, le=90, description="days")] | None = None
    scale_halflife: HalfLife | None = None
    scale_floor: Annotated[float, msgspec.Meta(ge=0, le=10)] | None = None
    tail_factor: Annotated[float, msgspec.Meta(ge=1, le=100)] | None = None
    tail_halflife: HalfLife | None = None
    min_excess: Count | None = None
    transform: Literal["log", "sqrt"] | None = None
    # Negative-share detector
    windows: (
        Annotated[tuple[Annotated[int, msgspec.Meta(ge=1, le=1000)], ...], msgspec.Meta(min_length=1, max_length=10)]
        | None
    ) = None
    share_halflife: HalfLife | None = None
    prior_share: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    prior_weight: Count | None = None
    min_negatives: Count | None = None
    min_factor: Factor | None = None
    overdispersion: Annotated[float, msgspec.Meta(ge=0, le=10)] | None = None

    def thresholds(self) -> dict[str, Any]:
        """The detector thresholds this table sets."""
        given = msgspec.structs.asdict(self)
        return {k: v for k, v in given.items() if v is not None and k not in ("kind", "scopes", "bucket")}


# Which threshold belongs to which detector (alerts.detectors.VolumeParams / NegativeParams).
VOLUME_KEYS = frozenset(
    {"z_min", "cooldown", "smooth", "season_days", "scale_halflife", "scale_floor", "tail_factor"}
    | {"tail_halflife", "min_excess", "transform"}
)
NEGATIVE_KEYS = frozenset(
    {"z_min", "cooldown", "windows", "share_halflife", "prior_share", "prior_weight", "min_negatives"}
    | {"min_factor", "overdispersion"}
)
THRESHOLDS = {"volume": VOLUME_KEYS, "negative": NEGATIVE_KEYS}

Thresholds = tuple[Count, Count, Count]
Factors = tuple[Factor, Factor, Factor]


class SeverityTable(Table):
    """[alerts.severity]: tier t (3..5) needs excess >= *_excess[t-3] and factor >= *_factor[t-3].
    Unset keys keep alerts.events.SeverityRules' values."""

    volume_excess: Thresholds | None = None
    volume_factor: Factors | None = None
    negative_excess: Thresholds | None = None
    negative_factor: Factors | None = None
    # A negative burst with this many tier-5 mentions (safety, legal, regulator, media) is a red alert
    # whatever its size; a number out of reach turns that off.
    red_alert_mentions: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None

    def __post_init__(self) -> None:
        for key, values in msgspec.structs.asdict(self).items():
            if isinstance(values, tuple) and list(values) != sorted(values):
                shown = ", ".join(f"{v:g}" for v in values)
                raise ValueError(f"{key} = [{shown}]: expected thresholds for tiers 3, 4 and 5 that do not decrease")

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}


class ChannelTable(Table):
    """[alerts.channels.NAME]: where alerts go. URLs and secrets come from environment variables."""

    type: ChannelType = "webhook"
    url_env: EnvName | None = None  # default KOUBEI_<NAME>_URL
    url: Text | None = None  # a URL in the file instead (a local receiver, a test)
    secret_env: EnvName | None = None  # dingtalk / feishu signing secret
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300, description="seconds")] | None = None
    # email
    host: Text | None = None
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    sender: Text | None = msgspec.field(default=None, name="from")
    to: list[Text] | Text | None = None
    starttls: bool | None = None
    username_env: EnvName | None = None
    password_env: EnvName | None = None

    def given(self) -> dict[str, Any]:
        """The keys this table sets, by their names in the file (alerts/channels.py has the defaults)."""
        given: dict[str, Any] = msgspec.to_builtins(self)
        return {k: v for k, v in given.items() if v is not None}


class RouteTable(Table):
    """One [[alerts.routes]] entry: every matching route's channels get the alert."""

    channels: Annotated[tuple[Text, ...], msgspec.Meta(min_length=1)]
    name: Text | None = None  # default route1, route2, ...
    brands: tuple[Text, ...] = ()
    kinds: tuple[Kind, ...] = ()
    keyword_groups: tuple[Text, ...] = ()
    min_tier: Tier = 2
    quiet_hours: QuietHours | None = None  # holds tiers below 5 until they end, in [alerts] timezone


class AlertsTable(Table):
    """[alerts]"""

    timezone: TimeZoneName = TimeZoneName("Asia/Shanghai")  # for quiet hours
    lookback_days: Annotated[float, msgspec.Meta(ge=1, le=3650, description="days")] = 28  # history per pass
    merge_gap: MergeGap = MergeGap(hours=6)  # a burst this close to an unresolved incident extends it
    # A source with 0 items for silence_hours, where >= silence_min_expected are usual, is down.
    silence_hours: Annotated[float, msgspec.Meta(ge=1, le=720, description="hours")] = 6
    silence_min_expected: Annotated[float, msgspec.Meta(ge=0, le=1_000_000, description="mentions")] = 20
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=20)] = 6  # outbox tries per alert
    # Wait before the first retry, doubled on each further one (at most 20 tries: 2^19 times this).
    retry_base_seconds: Annotated[float, msgspec.Meta(ge=1, le=3600, description="seconds")] = 30
    rules: dict[Text, RuleTable] = {}
    severity: SeverityTable = msgspec.field(default_factory=SeverityTable)
    keyword_groups: dict[Text, Annotated[tuple[Text, ...], msgspec.Meta(min_length=1)]] = {}
    channels: dict[Text, ChannelTable] = {}
    routes: tuple[RouteTable, ...] = ()

    def __post_init__(self) -> None:
        for name, rule in self.rules.items():
            kind = self.rule_kind(name)
            if wrong := sorted(rule.thresholds().keys() - THRESHOLDS[kind]):
                valid = sorted(THRESHOLDS[kind])
                raise ValueError(
                    f"rules.{name}: {wrong[0]} is not a threshold of a {kind} rule{suggest(wrong[0], valid)}"
                )
        for index, route in enumerate(self.routes):
            for channel in route.channels:
                if channel not in self.channels:
                    raise ValueError(f"routes[{index}]: unknown channel {channel!r}{suggest(channel, self.channels)}")
            for group in route.keyword_groups:
                if group not in self.keyword_groups:
                    hint = suggest(group, self.keyword_groups)
                    raise ValueError(f"routes[{index}]: unknown keyword group {group!r}{hint}")

    def rule_kind(self, name: str) -> Kind:
        rule = self.rules.get(name)
        return (rule.kind if rule else None) or BUILTIN_RULE_KINDS.get(name, "negative")
