"""The supervisor's audit search filters: one parser for the page, its CSV export and the API.

A filter is at most 100 characters, trimmed. `since` and `until` take an ISO date or date and
time; one without a time zone is read in the portal's. The page ignores a date it cannot read
(the form shows what was typed); the API refuses it with a 400, as its schema promises a
date-time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.errors import InvalidQuery

FILTERS = ("target", "actor", "action", "department", "subject", "since", "until")
_DATES = ("since", "until")


def parse_filters(source: Mapping[str, Any], *, strict: bool) -> tuple[dict, dict]:
    """(the filters as typed, the filters for `audit_search`). With `strict`, a date given but
    unreadable (or given empty) raises `InvalidQuery`; otherwise it is ignored."""
    raw = {k: str(source.get(k, "") or "")[:100].strip() for k in FILTERS}
    parsed: dict[str, Any] = dict(raw)
    errors = {}
    for key in _DATES:
        parsed[key] = _moment(raw[key])
        if strict and key in source and parsed[key] is None:
            errors[key] = [_("Use an ISO date and time, e.g. 2026-11-27T00:00:00Z.")]
    if errors:
        raise InvalidQuery(errors)
    return raw, parsed


def _moment(value: str):
    if not value:
        return None
    try:
        moment = parse_datetime(value)  # a date alone is midnight
    except ValueError:  # well formed but impossible, e.g. month 13
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
