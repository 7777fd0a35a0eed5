"""[[reports]]: review-summary reports `koubei watch` produces and sends on a schedule.

    [[reports]]
    name = "weekly"
    schedule = "every Monday 09:00 Asia/Shanghai"   # every day | every <weekday> | every month <day>
    period = "week"                                 # the last full week (month: the last full month)
    brands = ["声浪"]
    channels = ["leadership-mail", "ops-webhook"]   # from [alerts.channels]

Each scheduled time produces the report of the period before it once, and queues it in the
alert outbox for each channel: delivered exactly once per period and channel, with retries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

import msgspec

from koubei.settings.types import Table, Text

WEEKDAYS = {
    **{
        name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
    },
    **{f"周{c}": i for i, c in enumerate("一二三四五六日")},
    "周天": 6,
}
_SCHEDULE = re.compile(r"^every\s+(day|month\s+(\d{1,2})|\S+)\s+(\d{1,2}):(\d{2})(?:\s+(\S+))?$", re.IGNORECASE)
DEFAULT_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class Schedule:
    """When a report is due: every day, every given weekday (0 = Monday) or every month on a day, at a local time."""

    every: Literal["day", "week", "month"]
    day: int  # weekday for "week", day of the month for "month", 0 for "day"
    at: time
    tz: str

    @classmethod
    def parse(cls, text: str) -> Schedule:
        import zoneinfo

        match = _SCHEDULE.match(text.strip())
        if not match:
            raise ValueError(f"schedule {text!r}: {cls.expected()}")
        what, month_day, hour, minute, tz = match.groups()
        try:
            at = time(int(hour), int(minute))
            zoneinfo.ZoneInfo(tz or DEFAULT_TZ)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise ValueError(f"schedule {text!r}: {cls.expected()}") from None
        if what.lower() == "day":
            return cls("day", 0, at, tz or DEFAULT_TZ)
        if month_day is not None:
            if not 1 <= int(month_day) <= 28:
                raise ValueError(f"schedule {text!r}: the day of the month must be 1 to 28 (every month has it)")
            return cls("month", int(month_day), at, tz or DEFAULT_TZ)
        if what.lower() not in WEEKDAYS:
            raise ValueError(f"schedule {text!r}: {what!r} is not a weekday; {cls.expected()}")
        return cls("week", WEEKDAYS[what.lower()], at, tz or DEFAULT_TZ)

    @staticmethod
    def expected() -> str:
        return 'expected "every day 08:00", "every Monday 09:00 Asia/Shanghai" or "every month 1 09:00"'

    def latest(self, now: datetime) -> datetime:
        """The last scheduled time at or before `now` (aware), in the schedule's zone."""
        from zoneinfo import ZoneInfo

        local = now.astimezone(ZoneInfo(self.tz))
        day = local.date()
        if self.every == "week":
            day -= timedelta(days=(day.weekday() - self.day) % 7)
        elif self.every == "month":
            day = day.replace(day=self.day)
        moment = _at(day, self.at, self.tz)
        if moment > local:
            step = {"day": 1, "week": 7}.get(self.every)
            moment = (
                _at(day - timedelta(days=step), self.at, self.tz) if step else _at(_month_before(day), self.at, self.tz)
            )
        return moment


def _at(day: date, at: time, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.combine(day, at, tzinfo=ZoneInfo(tz))


def _month_before(day: date) -> date:
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=day.day)


class ReportTable(Table):
    """One [[reports]] entry."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]+$", description="letters, digits, - and _")]
    schedule: Text  # see Schedule.expected()
    channels: Annotated[tuple[Text, ...], msgspec.Meta(min_length=1)]  # names from [alerts.channels]
    period: Literal["week", "month"] = "week"
    language: Literal["zh", "en"] = "zh"
    format: Literal["pdf", "html"] = "pdf"
    brands: tuple[Text, ...] = ()
    products: tuple[Text, ...] = ()
    sources: tuple[Text, ...] = ()
    output_dir: Text = "data/reports"  # where the report files are kept
    link_base: Text | None = None  # the URL output_dir is served at: chat channels then get a link

    def __post_init__(self) -> None:
        Schedule.parse(self.schedule)

    @property
    def when(self) -> Schedule:
        return Schedule.parse(self.schedule)
