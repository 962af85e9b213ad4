"""The dashboard's tables, written once for the page, the CSV export and the charts: each has a
title, column headings, rows of values, and for each row where it drills down to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .selectors import Figures, Filters, Scope


@dataclass
class Table:
    name: str
    title: str
    headings: list[str]
    rows: list[list[Any]]
    links: list[str] = field(default_factory=list)  # per row: the inbox or audit search
    # What the chart plots when it is not the table's second column: {series name: values}.
    series: dict[str, list[float]] = field(default_factory=dict)

    @property
    def rows_with_links(self) -> list[tuple[list[Any], str]]:
        links = self.links or [""] * len(self.rows)
        return list(zip(self.rows, links, strict=True))


TABLES = ("status", "age", "departments", "steps", "days", "weeks")


def _inbox(filters: Filters, **params: str) -> str:
    query = {}
    if filters.department:
        query["department"] = filters.department.slug
    if filters.service:
        query["service"] = filters.service.slug
    query.update(params)
    return f"{reverse('workflows:inbox')}?{urlencode(query)}"


def _audit(filters: Filters, **params: str) -> str:
    query = {"since": filters.since.isoformat(), "until": filters.until.isoformat()}
    if filters.department:
        query["department"] = filters.department.slug
    query.update(params)
    return f"{reverse('audit:search')}?{urlencode(query)}"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{number_format(share * 100, 1)} %"


def hours(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 48:
        return _("%(n)s h") % {"n": number_format(value, 1)}
    return _("%(n)s days") % {"n": number_format(value / 24, 1)}


def week_label(iso_week: str) -> str:
    """An ISO week ("2026-W49") as people read it: "Week 49 of 2026", 2026 年第 49 周."""
    year, week = iso_week.split("-W")
    return _("Week %(week)s of %(year)s") % {"week": int(week), "year": year}


def build(figures: Figures, filters: Filters, scope: Scope) -> dict[str, Table]:
    """Every table of the dashboard in the active language, by name (`TABLES`)."""
    tables = {}
    tables["status"] = Table(
        "status",
        _("Backlog by status"),
        [_("Status"), _("Cases")],
        [[label, n] for _s, label, n in figures.backlog_by_status],
        [_inbox(filters, status=s) for s, _l, _n in figures.backlog_by_status],
    )
    tables["age"] = Table(
        "age",
        _("Backlog by age"),
        [_("Age"), _("Cases")],
        [[label, n] for label, n in figures.backlog_by_age],
        [_inbox(filters, status="active")] * len(figures.backlog_by_age),
    )
    tables["departments"] = Table(
        "departments",
        _("By department"),
        [
            _("Department"),
            _("Backlog"),
            _("Past due"),
            _("Due within 2 days"),
            _("Waiting on citizens"),
            _("Decided in the period"),
            _("Decided on time"),
        ],
        [
            [
                r["department"].name_translated,
                r["backlog"],
                r["overdue"],
                r["due_soon"],
                r["waiting"],
                r["decided"],
                percent(r["share"]),
            ]
            for r in figures.by_department
        ],
        [
            f"{reverse('workflows:inbox')}?"
            + urlencode({"department": r["department"].slug, "status": "active"})
            for r in figures.by_department
        ],
    )
    decided_link = (
        (lambda _row: _audit(filters, action="case.approve"))
        if scope.city
        else (lambda row: _inbox(filters, service=row["service"], status="approved,rejected"))
    )
    tables["steps"] = Table(
        "steps",
        _("Time to decision per step"),
        [_("Service"), _("Step"), _("Decided"), _("Median"), _("90th percentile")],
        [
            [
                s["service_name"],
                s["name"],
                s["decided"],
                hours(s["median_hours"]),
                hours(s["p90_hours"]),
            ]
            for s in figures.steps
        ],
        [decided_link(s) for s in figures.steps],
        {
            _("Median (hours)"): [s["median_hours"] or 0 for s in figures.steps],
            _("90th percentile (hours)"): [s["p90_hours"] or 0 for s in figures.steps],
        },
    )
    tables["days"] = Table(
        "days",
        _("Decisions per day"),
        [_("Day"), _("Decisions")],
        [[d.isoformat(), n] for d, n in figures.per_day],
    )
    tables["weeks"] = Table(
        "weeks",
        _("Decisions per week"),
        [_("Week"), _("Decisions")],
        [[week_label(week), n] for week, _monday, n in figures.per_week],
    )
    return tables


def summary_links(filters: Filters, scope: Scope) -> dict[str, str]:
    links = {
        "overdue": _inbox(filters, due="breached"),
        "due_soon": _inbox(filters, due="soon"),
        "waiting": _inbox(filters, status="awaiting_citizen"),
    }
    if scope.city:
        links["incidents"] = _audit(filters, action="incident.create")
        links["sla"] = _audit(filters, action="case.breach")
    else:
        links["sla"] = _inbox(filters, status="approved,rejected")
    return links
