"""Who sees which dashboard, its filters, and its figures, read from the summary tables only.

A supervisor (the model-wide `oversight.view_city_dashboard`, given by their role in
`accounts.backends`; administrators hold it as superusers) sees every department; a lead sees
the departments whose leads' group they are in (`workflows.delegation.led_departments`);
anyone else has no dashboard (None).

Figures and what they count (docs/dashboards.md):
- backlog: cases not closed (waiting for another department, open, in progress, waiting for
  the citizen) by status, by age (days since their clock started) and by department;
- deadlines: open work past its due day, and due today or within the next two days;
- decisions in the period (approved or rejected): the share decided by the due date, the
  median and 90th percentile time to decision per step (from a histogram, see
  `oversight.histogram`), and how many per day and per week;
- information requests waiting on citizens: cases waiting for the citizen's answer;
- routing incidents open (the whole city only: an incident belongs to no department yet).

Over 400 lines: the scope, the filters, the counts over the summary rows and their presentation
belong together; the page, the API and the CSV export read a dashboard only through them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department
from core.errors import InvalidQuery
from core.translations import translated
from services.constants import VersionStatus
from services.models import Service, ServiceVersion
from workflows.constants import CaseStatus
from workflows.delegation import led_departments

from .histogram import percentile
from .models import BacklogCount, DashboardSnapshot, DecisionCount, SummaryState

if TYPE_CHECKING:
    from accounts.models import User

CITY = "oversight.view_city_dashboard"
DEFAULT_DAYS = 30
MAX_DAYS = 366
SOON_DAYS = 2
BACKLOG_STATUSES = (
    CaseStatus.PENDING,
    CaseStatus.OPEN,
    CaseStatus.IN_PROGRESS,
    CaseStatus.AWAITING_CITIZEN,
)
WORK_STATUSES = (CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_CITIZEN)
# Ages in days: (first day, last day or None) of each band.
AGE_BANDS = ((0, 2), (3, 7), (8, 14), (15, 30), (31, None))


@dataclass(frozen=True)
class Scope:
    """The departments a user's dashboard covers; `city` for a supervisor."""

    city: bool
    departments: tuple[Department, ...]


def dashboard_scope(*, user: User) -> Scope | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.has_perm(CITY):
        return Scope(city=True, departments=_catalog()["departments"])
    led = tuple(led_departments(user=user))
    return Scope(city=False, departments=led) if led else None


@dataclass(frozen=True)
class Filters:
    since: dt.date
    until: dt.date
    department: Department | None = None
    service: Service | None = None
    typed: dict[str, str] = field(default_factory=dict)  # as given, for links and forms

    @property
    def department_ids(self) -> list[int] | None:
        return [self.department.pk] if self.department else None

    def query(self) -> dict[str, str]:
        """The filters as query parameters (what a link to the same figures carries)."""
        values = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.department:
            values["department"] = self.department.slug
        if self.service:
            values["service"] = self.service.slug
        return values


FILTER_NAMES = ("since", "until", "department", "service")
# Dates outside these bounds are refused before any arithmetic on them (a day before 0001-01-01
# or after 9999-12-31 does not exist).
EARLIEST_DATE = dt.date(2000, 1, 1)


def parse_filters(source: Mapping[str, Any], *, scope: Scope, today: dt.date) -> Filters:
    """The dashboard's filters from a query string; `InvalidQuery` names each bad one.

    `since` and `until` are ISO dates (YYYY-MM-DD), the period of the decisions counted (by
    default the last 30 days up to today, at most 366 days); `department` a department's slug
    among those the dashboard covers; `service` a service's slug."""
    typed = {k: str(source.get(k, "") or "").strip()[:100] for k in FILTER_NAMES}
    errors: dict[str, list[str]] = {}
    dates = {}
    for key in ("since", "until"):
        if typed[key]:
            try:
                dates[key] = dt.date.fromisoformat(typed[key])
            except ValueError:
                errors[key] = [_("Use a date written as YYYY-MM-DD, e.g. 2026-11-27.")]
                continue
            if not EARLIEST_DATE <= dates[key] <= today + dt.timedelta(days=366):
                del dates[key]
                errors[key] = [
                    _("Choose a date between %(earliest)s and a year from today.")
                    % {"earliest": EARLIEST_DATE.isoformat()}
                ]
    until = dates.get("until", today)
    since = dates.get("since", until - dt.timedelta(days=DEFAULT_DAYS - 1))
    if not errors:
        if since > until:
            errors["since"] = [_("The start of the period must not be after its end.")]
        elif (until - since).days + 1 > MAX_DAYS:
            errors["since"] = [_("The period may be at most 366 days.")]
    department = None
    if typed["department"]:
        department = next((d for d in scope.departments if d.slug == typed["department"]), None)
        if department is None:
            errors["department"] = [_("Choose one of the departments this dashboard covers.")]
    service = None
    if typed["service"]:
        service = Service.objects.filter(slug=typed["service"]).first()
        if service is None:
            errors["service"] = [_("There is no service with this code.")]
    if errors:
        raise InvalidQuery(errors)
    return Filters(since=since, until=until, department=department, service=service, typed=typed)


def services_for_filter() -> list[Service]:
    return list(Service.objects.order_by("name"))


# --- Figures -----------------------------------------------------------------------------------


@dataclass
class Figures:
    refreshed_at: dt.datetime | None
    today: dt.date
    backlog_by_status: list[tuple[str, str, int]]  # (status, label, count)
    backlog_by_age: list[tuple[str, int]]  # (band label, count)
    by_department: list[dict[str, Any]]  # one row per department
    deadlines: dict[str, int]  # overdue, due_soon
    sla: dict[str, Any]  # decided, on_time, share (0..1 or None)
    steps: list[dict[str, Any]]  # per step: service, step, name, decided, median/p90 hours
    per_day: list[tuple[dt.date, int]]
    per_week: list[tuple[str, dt.date, int]]  # (ISO week, its Monday in the period, count)
    waiting_on_citizens: int
    incidents_open: int | None  # None: not shown (a department's dashboard)


def _rows(model, department_ids: list[int] | None, service_id: int | None):
    rows = model.objects.all()
    if department_ids is not None:
        rows = rows.filter(department_id__in=department_ids)
    if service_id is not None:
        rows = rows.filter(service_id=service_id)
    return rows


def _band(age: int) -> int:
    for i, (first, last) in enumerate(AGE_BANDS):
        if age >= first and (last is None or age <= last):
            return i
    return 0


def band_label(i: int) -> str:
    first, last = AGE_BANDS[i]
    if last is None:
        return _("over %(days)s days") % {"days": first - 1}
    return _("%(first)s–%(last)s days") % {"first": first, "last": last}  # noqa: RUF001


def counts(
    *,
    department_ids: list[int] | None,
    service_id: int | None,
    since: dt.date,
    until: dt.date,
    today: dt.date,
) -> dict[str, Any]:
    """The figures as plain counts (ids and codes, no words: JSON, the same in every
    language), from the summary tables in three grouped reads. `department_ids` None: all."""
    soon = today + dt.timedelta(days=SOON_DAYS)
    status: dict[str, int] = {}
    bands = [0] * len(AGE_BANDS)
    per_dept: dict[str, dict[str, int]] = {}
    empty = dict.fromkeys(("backlog", "overdue", "due_soon", "waiting", "decided", "on_time"), 0)
    cells = (
        _rows(BacklogCount, department_ids, service_id)
        .values_list("department_id", "status", "since_on", "due_on")
        .annotate(n=Sum("count"))
        .values_list("department_id", "status", "since_on", "due_on", "n")
    )
    for dept, code, since_on, due_on, n in cells:
        status[code] = status.get(code, 0) + n
        bands[_band((today - since_on).days)] += n
        row = per_dept.setdefault(str(dept), dict(empty))
        row["backlog"] += n
        if code == CaseStatus.AWAITING_CITIZEN:
            row["waiting"] += n
        if code in WORK_STATUSES:
            if due_on < today:
                row["overdue"] += n
            elif due_on <= soon:
                row["due_soon"] += n
    decisions = _rows(DecisionCount, department_ids, service_id).filter(
        decided_on__gte=since, decided_on__lte=until
    )
    histograms: list[list] = []
    for dept, service, step, on_time, bucket, n in (
        decisions.values_list("department_id", "service_id", "step", "on_time", "bucket")
        .annotate(n=Sum("count"))
        .values_list("department_id", "service_id", "step", "on_time", "bucket", "n")
    ):
        row = per_dept.setdefault(str(dept), dict(empty))
        row["decided"] += n
        row["on_time"] += n if on_time else 0
        histograms.append([service, step, bucket, n])
    daily = {
        day.isoformat(): n
        for day, n in decisions.values_list("decided_on")
        .annotate(n=Sum("count"))
        .values_list("decided_on", "n")
    }
    return {
        "today": today.isoformat(),
        "since": since.isoformat(),
        "until": until.isoformat(),
        "status": status,
        "bands": bands,
        "per_dept": per_dept,
        "histograms": histograms,
        "daily": daily,
    }


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=DEFAULT_DAYS - 1), today


def snapshot_key(department_id: int | None) -> str:
    return "city" if department_id is None else f"department:{department_id}"


# The departments, services and steps' names change only with the catalog (a published version
# is immutable): read once a minute per process, not on every dashboard. A department added or
# renamed shows on the city's dashboard within a minute.
_CATALOG_TTL = 60.0
_catalog_cache: dict[str, Any] = {"at": -_CATALOG_TTL}


def _catalog() -> dict[str, Any]:
    now = time.monotonic()
    if now - _catalog_cache["at"] >= _CATALOG_TTL:
        steps: dict[tuple[int, str], dict] = {}
        versions = ServiceVersion.objects.exclude(status=VersionStatus.DRAFT).order_by(
            "service_id", "-published_at"
        )
        for version in versions.only("service_id", "workflow"):
            for step in (version.workflow or {}).get("steps", []):
                steps.setdefault((version.service_id, step.get("id", "")), step)
        _catalog_cache.update(
            at=now,
            departments=tuple(Department.objects.order_by("name")),
            services=Service.objects.in_bulk(),
            steps=steps,
        )
    return _catalog_cache


def forget_catalog() -> None:
    """Read the catalog's names again on next use (tests that change the catalog)."""
    _catalog_cache["at"] = -_CATALOG_TTL


def step_name(steps: dict[tuple[int, str], dict], service_id: int, step: str) -> str:
    spec = steps.get((service_id, step))
    if spec is None:
        return step
    return translated({**spec, "name": spec.get("name") or step}, "name")


def _stored_counts(scope: Scope, filters: Filters, today: dt.date) -> dict[str, Any] | None:
    """The counts beat stored for this dashboard when it shows its default view (the last 30
    days, every service, all its departments or one), computed for today: one row."""
    if filters.service is not None or (filters.since, filters.until) != default_period(today):
        return None
    if filters.department is not None:
        key = snapshot_key(filters.department.pk)
    elif scope.city:
        key = snapshot_key(None)
    elif len(scope.departments) == 1:
        key = snapshot_key(scope.departments[0].pk)
    else:
        return None
    stored = DashboardSnapshot.objects.filter(key=key, day=today).values_list("data", flat=True)
    return next(iter(stored), None)


def figures(*, scope: Scope, filters: Filters, today: dt.date | None = None) -> Figures:
    """Every figure of the dashboard: the counts beat stored for the default view, else
    computed from the summary tables; then named in the active language."""
    today = today or timezone.localdate()
    data = _stored_counts(scope, filters, today)
    if data is None:
        state = SummaryState.objects.filter(pk=1).values("refreshed_at", "incidents_open").first()
        ids = filters.department_ids
        if ids is None and not scope.city:
            ids = [d.pk for d in scope.departments]
        data = counts(
            department_ids=ids,
            service_id=filters.service.pk if filters.service else None,
            since=filters.since,
            until=filters.until,
            today=today,
        ) | (state or {"refreshed_at": None, "incidents_open": 0})
    return present(data, scope=scope, filters=filters, today=today)


def _moment(value: dt.datetime | str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def present(
    data: dict[str, Any],
    *,
    scope: Scope,
    filters: Filters,
    today: dt.date,
) -> Figures:
    by_status = [
        (str(s), str(s.label), int(data["status"].get(str(s), 0))) for s in BACKLOG_STATUSES
    ]
    shown = [filters.department] if filters.department else list(scope.departments)
    by_department = []
    for department in shown:
        row = data["per_dept"].get(str(department.pk), {})
        decided, on_time = row.get("decided", 0), row.get("on_time", 0)
        by_department.append(
            {
                "department": department,
                "backlog": row.get("backlog", 0),
                "overdue": row.get("overdue", 0),
                "due_soon": row.get("due_soon", 0),
                "waiting": row.get("waiting", 0),
                "decided": decided,
                "on_time": on_time,
                "share": (on_time / decided) if decided else None,
            }
        )
    decided = sum(r["decided"] for r in by_department)
    on_time = sum(r["on_time"] for r in by_department)
    histograms: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for service_id, step, bucket, n in data["histograms"]:
        histograms[(service_id, step)].append((bucket, n))
    catalog = _catalog() if histograms else {"services": {}, "steps": {}}
    services, steps_by_key = catalog["services"], catalog["steps"]
    steps = []
    for (service_id, step), cells in histograms.items():
        service = services.get(service_id)
        steps.append(
            {
                "service": service.slug if service else "",
                "service_name": service.name_translated if service else "",
                "step": step,
                "name": step_name(steps_by_key, service_id, step),
                "decided": sum(n for _b, n in cells),
                "median_hours": percentile(cells, 0.5),
                "p90_hours": percentile(cells, 0.9),
            }
        )
    steps.sort(key=lambda s: (s["service_name"], s["name"]))
    per_day = []
    day = filters.since
    while day <= filters.until:
        per_day.append((day, int(data["daily"].get(day.isoformat(), 0))))
        day += dt.timedelta(days=1)
    weeks: dict[str, list] = {}
    for day, n in per_day:
        year, week, _weekday = day.isocalendar()
        weeks.setdefault(f"{year}-W{week:02d}", [day, 0])[1] += n
    return Figures(
        refreshed_at=_moment(data.get("refreshed_at")),
        today=today,
        backlog_by_status=by_status,
        backlog_by_age=[(band_label(i), n) for i, n in enumerate(data["bands"])],
        by_department=by_department,
        deadlines={
            "overdue": sum(r["overdue"] for r in by_department),
            "due_soon": sum(r["due_soon"] for r in by_department),
        },
        sla={
            "decided": decided,
            "on_time": on_time,
            "share": (on_time / decided) if decided else None,
        },
        steps=steps,
        per_day=per_day,
        per_week=[(k, v[0], v[1]) for k, v in weeks.items()],
        waiting_on_citizens=sum(r["waiting"] for r in by_department),
        incidents_open=data.get("incidents_open", 0) if scope.city else None,
    )
