"""The tables of a release, counted from the database for one month, then withheld where
small (`disclosure`). Every count comes from rows of the month only, so months never overlap.

- `applications_by_service_district`: each submitted application counts once under each
  service it asks for (a moving-house and a newborn application together count under both), by
  the district of the applicant's own address;
- `decisions_by_department_outcome`, `decisions_by_department_district`,
  `processing_time_by_department`: each case a department decided (approved or rejected) in the
  month, by outcome, by the applicant's district, and by the days from the case's opening to
  the decision.

The three decision tables count the same cases by department, so they share their row totals
and grand total and are withheld together (`disclosure.suppress_linked`).

A count is of contributions (service requests, cases), not of people, so every table also
keeps the citizens behind each cell: an exact release withholds any figure fewer than k
distinct citizens stand behind, however large the count (`Table.few_citizens`). Districts
named are only those on the public list `OPENDATA_DISTRICTS`, for every release.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Department
from core.translations import translated
from privacy.crypto import DecryptionError
from services import answers as sealing
from services.constants import FieldType, VersionStatus
from services.models import Application, FieldDefinition, Service
from workflows.constants import CaseStatus
from workflows.models import Case

from . import disclosure
from .districts import OTHER, district_of

LANGUAGES = [code for code, _name in settings.LANGUAGES]

# Upper bounds in whole days (inclusive) of the processing-time bins; the last is open.
TIME_BINS = (2, 7, 14, 30)

OUTCOMES = (CaseStatus.APPROVED, CaseStatus.REJECTED)


@dataclass
class Table:
    """Counts by (row key, column key), with the labels of each key in every language."""

    name: str
    rows: list[str]
    columns: list[str]
    labels: dict[str, dict[str, str]]
    counts: Counter = field(default_factory=Counter)
    citizens: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def add(self, row: str, column: str, citizen: int) -> None:
        self.counts[(row, column)] += 1
        self.citizens.setdefault((row, column), set()).add(citizen)

    def matrix(self) -> list[list[int]]:
        return [[self.counts[(r, c)] for c in self.columns] for r in self.rows]

    def few_citizens(self, k: int) -> set[tuple[int, int]]:
        """The positions of the extended grid (cells, then row totals in the last column,
        column totals in the last row, the grand total in the corner) with a count but fewer
        than k distinct citizens behind it."""
        height, width = len(self.rows), len(self.columns)
        people: dict[tuple[int, int], set[int]] = {}
        for r, row in enumerate(self.rows):
            for c, column in enumerate(self.columns):
                found = self.citizens.get((row, column), set())
                for position in ((r, c), (r, width), (height, c), (height, width)):
                    people.setdefault(position, set()).update(found)
        return {p for p, who in people.items() if 0 < len(who) < k}


def month_bounds(period: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's first instant and the next month's, in the city's time zone."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime(period.year, period.month, 1, tzinfo=zone)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return start, following


def _labels(make: Callable[[], str]) -> dict[str, str]:
    found = {}
    for code in LANGUAGES:
        with translation.override(code):
            found[code] = str(make())
    return found


def _row_labels(rows: Iterable[Any]) -> dict[str, dict[str, str]]:
    return {
        row.slug: {code: translated(row, "name", language=code) for code in LANGUAGES}
        for row in rows
    }


def _address_fields() -> list[FieldDefinition]:
    """The applicant's own address: address fields filled from the citizen's profile."""
    return list(
        FieldDefinition.objects.filter(type=FieldType.ADDRESS, profile_field=True).order_by("key")
    )


def _district(application: Application, fields: list[FieldDefinition]) -> str:
    for definition in fields:
        stored = application.answers.get(definition.key)
        if stored is None:
            continue
        try:
            opened = sealing.unseal(
                {definition.key: stored},
                row=application.sealing_row,
                dictionary={definition.key: definition},
            )
        except DecryptionError:
            return OTHER
        return district_of(opened.get(definition.key))
    return OTHER


def _time_bin(days: int) -> str:
    low = 0
    for high in TIME_BINS:
        if days <= high:
            return f"{low}-{high}"
        low = high + 1
    return f"{low}+"


def _time_labels() -> dict[str, dict[str, str]]:
    labels, low = {}, 0
    for high in TIME_BINS:
        labels[f"{low}-{high}"] = _labels(
            lambda lo=low, hi=high: gettext("%(low)d to %(high)d days") % {"low": lo, "high": hi}
        )
        low = high + 1
    labels[f"{low}+"] = _labels(lambda lo=low: gettext("%(low)d days or more") % {"low": lo})
    return labels


def _districts_named(table: Table, fixed: list[str]) -> None:
    """Name exactly the districts of the public list `fixed`, whatever the data; everything
    else joins "other or unknown". The address pattern also reads a residential compound
    (北京市景山花园小区) or any free text ending in 区/县/旗/市 as a "district", so only a
    known county-level district may be named, and which columns exist never depends on anyone's
    presence."""
    known = set(fixed) - {OTHER}
    merged: Counter = Counter()
    citizens: dict[tuple[str, str], set[int]] = {}
    for (row, column), count in table.counts.items():
        key = (row, column if column in known else OTHER)
        merged[key] += count
        citizens.setdefault(key, set()).update(table.citizens.get((row, column), set()))
    table.counts, table.citizens = merged, citizens
    named = [d for d in fixed if d != OTHER]
    table.columns = [*named, OTHER]
    other = _labels(lambda: gettext("Other or unknown"))
    table.labels.update({d: {code: d for code in LANGUAGES} for d in named})
    table.labels[OTHER] = other


@dataclass(frozen=True)
class Bounds:
    """A differentially private release's public frame: the rows and columns exist whatever
    the data, and each citizen's contributions are capped (`noise`)."""

    districts: list[str]
    max_service_requests: int
    max_decisions: int


def _public_rows(model: Any, **active: Any) -> dict[str, Any]:
    return {row.slug: row for row in model.objects.filter(**active).order_by("slug")}


def count(period: dt.date, k: int, bounds: Bounds | None = None) -> list[Table]:
    """The four tables of a month, before suppression (see the module's docstring). With
    `bounds` (a DP release), rows are every service and department and each citizen counts
    at most the bounded number of times. The districts named are the public list
    (`OPENDATA_DISTRICTS`, or the DP release's own); `k` is applied later (`published`)."""
    start, end = month_bounds(period)
    fields = _address_fields()
    districts: dict[int, str] = {}
    fixed = bounds.districts if bounds is not None else list(settings.OPENDATA_DISTRICTS)

    applications = (
        Application.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .only("id", "reference", "answers", "citizen_id")
        .prefetch_related("versions__service")
        .order_by("id")
    )
    services: dict[str, Any] = (
        _public_rows(Service, versions__status=VersionStatus.PUBLISHED)
        if bounds is not None
        else {}
    )
    by_service = Table("applications_by_service_district", [], [], {})
    per_citizen: Counter = Counter()
    for application in applications:
        district = districts[application.id] = _district(application, fields)
        for service in {v.service.slug: v.service for v in application.versions.all()}.values():
            if bounds is not None:
                if per_citizen[application.citizen_id] >= bounds.max_service_requests:
                    continue
                per_citizen[application.citizen_id] += 1
                if service.slug not in services:
                    continue
            services[service.slug] = service
            by_service.add(service.slug, district, application.citizen_id)
    by_service.rows = sorted(services)
    by_service.labels = _row_labels(services.values())
    _districts_named(by_service, fixed)

    cases = (
        Case.objects.filter(status__in=OUTCOMES, decided_at__gte=start, decided_at__lt=end)
        .select_related("department", "application")
        .only(
            "id",
            "status",
            "created_at",
            "opened_at",
            "decided_at",
            "department__slug",
            "department__name",
            "department__translations",
            "application__id",
            "application__reference",
            "application__answers",
            "application__citizen_id",
        )
        .order_by("id")
    )
    departments: dict[str, Any] = (
        _public_rows(Department, active=True) if bounds is not None else {}
    )
    decisions: Counter = Counter()
    outcome = Table("decisions_by_department_outcome", [], [str(o) for o in OUTCOMES], {})
    by_district = Table("decisions_by_department_district", [], [], {})
    timing = Table("processing_time_by_department", [], [], {})
    for case in cases:
        slug = case.department.slug
        if bounds is not None:
            citizen = case.application.citizen_id
            if decisions[citizen] >= bounds.max_decisions or slug not in departments:
                continue
            decisions[citizen] += 1
        departments[slug] = case.department
        application = case.application
        citizen = application.citizen_id
        outcome.add(slug, case.status, citizen)
        if application.id not in districts:
            districts[application.id] = _district(application, fields)
        by_district.add(slug, districts[application.id], citizen)
        # From the case's opening (the documented measure), not from when it was queued.
        days = (case.decided_at - (case.opened_at or case.created_at)).days
        timing.add(slug, _time_bin(days), citizen)
    rows = sorted(departments)
    department_labels = _row_labels(departments.values())
    for table in (outcome, by_district, timing):
        table.rows = list(rows)
        table.labels = dict(department_labels)
    outcome.labels.update({str(o): _labels(lambda o=o: CaseStatus(o).label) for o in OUTCOMES})
    _districts_named(by_district, fixed)
    time_labels = _time_labels()
    timing.columns = list(time_labels)
    timing.labels.update(time_labels)
    return [by_service, outcome, by_district, timing]


def published(
    tables: list[Table], k: int, noise: Callable[[list[int]], list[int]] | None = None
) -> list[dict[str, Any]]:
    """The tables as a release publishes them: counts, totals, and None where withheld.

    With `noise` (a DP release), every cell of every table goes through it at once and the
    totals are sums of the noisy cells; the decision tables' totals then differ from table to
    table, so each table is withheld on its own.

    Without noise (an exact release), a figure is also withheld when fewer than k distinct
    citizens stand behind it (`Table.few_citizens`), since one citizen can make many
    contributions. A DP release does not use that rule: its suppression must depend on the
    noisy counts only (post-processing), and its noise is calibrated to each citizen's capped
    contributions instead."""
    matrices = [t.matrix() for t in tables]
    if noise is not None:
        flat = noise([v for m in matrices for row in m for v in row])
        at = 0
        for m in matrices:
            for row in m:
                row[:] = flat[at : at + len(row)]
                at += len(row)
    grids = [
        disclosure.Grid.of(m, len(t.columns)) if t.rows else None
        for t, m in zip(tables, matrices, strict=True)
    ]
    few = [t.few_citizens(k) if noise is None else set() for t in tables]
    patterns: list[set] = [set()] * len(tables)
    if grids[0] is not None:
        patterns[0] = disclosure.suppress(grids[0], k, forced=few[0])
    linked = [g for g in grids[1:] if g is not None]
    if linked and noise is None:
        patterns[1:] = disclosure.suppress_linked(
            linked, k, forced=[f for g, f in zip(grids[1:], few[1:], strict=True) if g is not None]
        )
    elif linked:
        patterns[1:] = [disclosure.suppress(g, k) for g in linked]
    out = []
    for table, grid, hidden in zip(tables, grids, patterns, strict=True):
        height, width = len(table.rows), len(table.columns)
        values = grid.values if grid is not None else ((0,) * (width + 1),)

        def shown(r: int, c: int, values=values, hidden=hidden) -> int | None:
            return None if (r, c) in hidden else values[r][c]

        out.append(
            {
                "name": table.name,
                "rows": [{"key": r, "label": table.labels[r]} for r in table.rows],
                "columns": [{"key": c, "label": table.labels[c]} for c in table.columns],
                "cells": [[shown(r, c) for c in range(width)] for r in range(height)],
                "row_totals": [shown(r, width) for r in range(height)],
                "column_totals": [shown(height, c) for c in range(width)],
                "total": shown(height, width),
            }
        )
    return out
