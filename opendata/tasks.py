"""Celery tasks of open data: take no personal data, call an action."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import actions
from .models import Release


def previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@shared_task(acks_late=True, ignore_result=True)
def publish_previous_month() -> int | None:
    """On the first of each month (beat), when `OPENDATA_PUBLISH_MONTHLY` is on: publish the
    month that just ended, exact counts, as the portal itself. Safe to run twice: a month
    already published is left alone. Returns the new version, if any."""
    if not settings.OPENDATA_PUBLISH_MONTHLY:
        return None
    period = previous_month(timezone.localdate())
    if Release.objects.filter(period=period).exists():
        return None
    try:
        return actions.release_publish(period=period, actor=None).version
    except actions.WrongState:  # published meanwhile by someone else
        return None
