"""Business days: weekends and public holidays (the `holidays` package), country configurable."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import timezone


@lru_cache(maxsize=8)
def _calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    # Years are filled on demand by the package as dates are looked up.
    return holidays.country_holidays(country, subdiv=subdivision)


def is_business_day(day: dt.date, *, country: str | None = None) -> bool:
    calendar = _calendar(
        country or settings.WORKFLOW_HOLIDAY_COUNTRY, settings.WORKFLOW_HOLIDAY_SUBDIVISION or None
    )
    # is_working_day knows the country's weekend and its official make-up working days.
    return calendar.is_working_day(day)


def add_business_days(start: dt.datetime, days: int, *, country: str | None = None) -> dt.datetime:
    """The end of the `days`-th business day after `start` (local time, 23:59:59)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    local = timezone.localtime(start)
    day = local.date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_business_day(day, country=country):
            counted += 1
    end = dt.datetime.combine(day, dt.time(23, 59, 59))
    return timezone.make_aware(end, timezone.get_current_timezone())


def business_days_between(start: dt.date, end: dt.date, *, country: str | None = None) -> int:
    """Business days after `start` up to and including `end` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_business_day(day, country=country)
    return count
