"""Due dates in business days: weekends, public holidays and official make-up working days."""

import datetime as dt

import pytest
from django.utils import timezone

from workflows.calendar import add_business_days, business_days_between, is_business_day


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day + "T10:00:00"))


def test_weekends_are_skipped(settings):
    settings.WORKFLOW_HOLIDAY_COUNTRY = "CN"
    # Friday 2026-11-27 + 1 business day = Monday 2026-11-30.
    assert timezone.localtime(add_business_days(at("2026-11-27"), 1)).date() == dt.date(
        2026, 11, 30
    )


def test_public_holidays_are_skipped(settings):
    settings.WORKFLOW_HOLIDAY_COUNTRY = "CN"
    assert not is_business_day(dt.date(2026, 10, 1))  # National Day
    due = timezone.localtime(add_business_days(at("2026-09-30"), 1)).date()
    assert due > dt.date(2026, 10, 7)


def test_due_at_is_the_end_of_the_day(settings):
    due = timezone.localtime(add_business_days(at("2026-11-23"), 2))
    assert (due.date(), due.hour, due.minute) == (dt.date(2026, 11, 25), 23, 59)


def test_country_is_configurable(settings):
    assert not is_business_day(dt.date(2026, 12, 25), country="GB")
    assert is_business_day(dt.date(2026, 12, 25), country="CN")


def test_counting_matches_adding():
    start = at("2026-11-20")
    end = add_business_days(start, 7)
    assert business_days_between(start.date(), timezone.localtime(end).date()) == 7


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_business_days(at("2026-11-20"), -1)
