"""What the tables of koubei.toml are made of: durations, time zones, quiet hours, variable names.

Values TOML has no type for are written as strings ("5m", "Asia/Shanghai",
"22:00-08:00") and read by `decode`, msgspec's hook for types it does not know;
`encode` writes them back the same way (`koubei config check`).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, ClassVar

import msgspec


class Table(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A table of koubei.toml: every key declared, an unknown key is an error."""


# The name of the environment variable holding a secret (URL with a token, cookie, password),
# never the secret itself: a URL pasted into url_env is refused.
EnvName = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="the name of an environment variable such as KOUBEI_WEBHOOK_URL, not its value",
    ),
]
Text = Annotated[str, msgspec.Meta(min_length=1)]

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def duration_text(delta: timedelta) -> str:
    """1h, 90m, 45s: the largest unit that divides it."""
    seconds = int(delta.total_seconds())
    for unit, size in _UNITS.items():
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return "0s"


class Duration(timedelta):
    """A length of time written "30s", "5m", "1h", "1d" or as whole seconds, within [least, most]."""

    least: ClassVar[timedelta] = timedelta(0)
    most: ClassVar[timedelta] = timedelta(days=30)

    @classmethod
    def parse(cls, value: object) -> Duration:
        if isinstance(value, int) and not isinstance(value, bool):
            seconds = value
        elif isinstance(value, str) and (match := _DURATION.match(value.strip())):
            seconds = int(match.group(1)) * _UNITS[match.group(2)]
        else:
            raise ValueError(cls.expected())
        if not cls.least.total_seconds() <= seconds <= cls.most.total_seconds():
            raise ValueError(cls.expected())
        return cls(seconds=seconds)

    @classmethod
    def expected(cls) -> str:
        return f'a duration such as "30s", "5m", "1h" or "1d", from {duration_text(cls.least)} to {duration_text(cls.most)}'

    def __str__(self) -> str:
        return duration_text(self)


class WatchInterval(Duration):
    """Between two passes of a source in `koubei watch`: at least a second, so passes never run back to back."""

    least = timedelta(seconds=1)
    most = timedelta(days=30)


class BucketLength(Duration):
    """The bucket of a detection rule: at least a minute (counts per bucket), at most a week."""

    least = timedelta(minutes=1)
    most = timedelta(days=7)


class MergeGap(Duration):
    """How close a new burst must be to an open incident to extend it (0s: never)."""

    least = timedelta(0)
    most = timedelta(days=30)


class TimeZoneName(str):
    """An IANA time zone name, checked against the time zone database."""

    @classmethod
    def parse(cls, value: object) -> TimeZoneName:
        import zoneinfo  # here: 3 ms of start-up for a check made once per load

        if not isinstance(value, str) or not value:
            raise ValueError(cls.expected())
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(cls.expected()) from None
        return cls(value)

    @classmethod
    def expected(cls) -> str:
        return 'an IANA time zone name such as "Asia/Shanghai" or "UTC"'


class QuietHours:
    """ "22:00-08:00": from start to end local time (across midnight when end < start)."""

    __slots__ = ("end", "start")

    def __init__(self, start: time, end: time) -> None:
        self.start, self.end = start, end

    @classmethod
    def parse(cls, value: object) -> QuietHours:
        if not isinstance(value, str) or value.count("-") != 1:
            raise ValueError(cls.expected())
        first, _, last = value.partition("-")
        try:
            return cls(*(time.fromisoformat(part.strip().zfill(5)) for part in (first, last)))
        except ValueError:
            raise ValueError(cls.expected()) from None

    @classmethod
    def expected(cls) -> str:
        return 'hours such as "22:00-08:00"'

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuietHours) and (self.start, self.end) == (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))


PARSED = (Duration, TimeZoneName, QuietHours)


def decode(type_: type, value: Any) -> Any:
    """msgspec's dec_hook: the types above from their TOML spelling."""
    if isinstance(type_, type) and issubclass(type_, PARSED):
        return type_.parse(value)
    raise NotImplementedError(f"no decoder for {type_}")


def encode(value: Any) -> Any:
    """msgspec's enc_hook: the types above in their TOML spelling."""
    if isinstance(value, PARSED):
        return str(value)
    raise NotImplementedError(f"cannot write {type(value).__name__}")
