"""A report's period: whole local days, and the same number of days just before it.

`week` is the last full Monday-to-Sunday week before today, `month` the last full
calendar month, `YYYY-MM-DD..YYYY-MM-DD` any range of days (both ends included).
Days are local to the report's time zone; queries get UTC bounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from koubei.errors import ConfigError

RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
PERIOD_HELP = "week (last full Mon-Sun week), month (last full month) or YYYY-MM-DD..YYYY-MM-DD"


@dataclass(frozen=True)
class Period:
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive
    tz: str = "Asia/Shanghai"
    kind: str = "range"  # week | month | range: how it was asked for, for the title

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start(self) -> datetime:
        """UTC start (naive, as stored) of the first local day."""
        return _utc(self.first_day, self.tz)

    @property
    def end(self) -> datetime:
        """UTC end, exclusive: the start of the local day after the last one."""
        return _utc(self.last_day + timedelta(days=1), self.tz)

    def previous(self) -> Period:
        """The same number of days just before (a month's is the month before, whatever its length)."""
        if self.kind == "month":
            last = self.first_day - timedelta(days=1)
            return Period(last.replace(day=1), last, self.tz, "month")
        return Period(
            self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1), self.tz, self.kind
        )

    def label(self) -> str:
        return f"{self.first_day:%Y-%m-%d} – {self.last_day:%Y-%m-%d}"

    def slug(self) -> str:
        return f"{self.first_day:%Y%m%d}-{self.last_day:%Y%m%d}"


def _utc(day: date, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def parse_period(text: str, tz: str = "Asia/Shanghai", today: date | None = None) -> Period:
    """`week`, `month` or `YYYY-MM-DD..YYYY-MM-DD`; week and month are the last full ones before `today`
    (default: today in `tz`)."""
    today = today or datetime.now(ZoneInfo(tz)).date()
    value = text.strip().lower()
    if value == "week":
        monday = today - timedelta(days=today.weekday() + 7)
        return Period(monday, monday + timedelta(days=6), tz, "week")
    if value == "month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last, tz, "month")
    match = RANGE.match(value)
    if not match:
        raise ConfigError(f"period {text!r}: expected {PERIOD_HELP}")
    try:
        first, last = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
    except ValueError as exc:
        raise ConfigError(f"period {text!r}: {exc}") from exc
    if last < first:
        raise ConfigError(f"period {text!r}: the last day is before the first")
    return Period(first, last, tz, "range")
