"""Report periods: last full week, last full month, explicit ranges, and their UTC bounds."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from koubei.errors import ConfigError
from reports.period import parse_period

WEDNESDAY = date(2026, 11, 25)


def test_week_and_month_are_the_last_full_ones() -> None:
    week = parse_period("week", today=WEDNESDAY)
    assert (week.first_day, week.last_day, week.days) == (date(2026, 11, 16), date(2026, 11, 22), 7)
    assert (week.previous().first_day, week.previous().last_day) == (date(2026, 11, 9), date(2026, 11, 15))
    month = parse_period("month", today=date(2026, 3, 1))
    assert (month.first_day, month.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (month.previous().first_day, month.previous().last_day) == (date(2026, 1, 1), date(2026, 1, 31))


def test_a_range_is_whole_local_days_in_utc() -> None:
    period = parse_period("2026-11-14..2026-11-20", "Asia/Shanghai")
    assert period.start == datetime(2026, 11, 13, 16, 0) and period.end == datetime(2026, 11, 20, 16, 0)
    assert period.label() == "2026-11-14 – 2026-11-20" and period.slug() == "20261114-20261120"


@pytest.mark.parametrize("text", ["fortnight", "2026-11-20..2026-11-14", "2026-02-30..2026-03-01", "2026-11-14"])
def test_a_bad_period_says_what_is_expected(text: str) -> None:
    with pytest.raises(ConfigError, match="period"):
        parse_period(text)
