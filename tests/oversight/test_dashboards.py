"""The dashboards: every figure equals a slow reference computed from the case rows, the
summaries stay right through the actions (claim, decide, ask the citizen, reply, withdraw),
who sees which dashboard, bad filters (a 400 naming the filter, never a 500), the audited CSV
export, the SVG charts and the JSON API."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.utils import timezone

from accounts.models import Department, User
from audit.models import AuditEvent
from oversight import actions as oversight_actions
from oversight import histogram, selectors
from oversight.models import BacklogCount, DecisionCount
from services import actions as service_actions
from tests.factories import api_for, clerk_of, submit_moving
from workflows import actions, routing
from workflows.models import Case

pytestmark = pytest.mark.django_db

WORK = ("open", "in_progress", "awaiting_citizen")
BACKLOG = ("pending", *WORK)


@pytest.fixture(autouse=True)
def _fresh_catalog_names():
    """The dashboards keep the catalog's names for a minute per process; each test has its
    own catalog rows."""
    selectors.forget_catalog()
    yield
    selectors.forget_catalog()


def user(email: str) -> User:
    return User.objects.get(email=email)


def route(application) -> dict[str, Case]:
    routing.advance(application_id=application.pk)
    return {c.step: c for c in Case.objects.filter(application=application)}


def refresh() -> int:
    return oversight_actions.summaries_refresh()


# --- The slow reference: straight from the case rows ----------------------------------------


def reference(*, departments=None, service=None, since, until, today):
    cases = Case.objects.select_related("version__service", "department")
    if departments is not None:
        cases = cases.filter(department__in=departments)
    if service is not None:
        cases = cases.filter(version__service=service)
    day = lambda moment: timezone.localtime(moment).date()  # noqa: E731
    ref = {
        "status": dict.fromkeys(BACKLOG, 0),
        "bands": [0] * len(selectors.AGE_BANDS),
        "overdue": 0,
        "due_soon": 0,
        "waiting": 0,
        "decided": 0,
        "on_time": 0,
        "durations": {},
        "per_day": {},
    }
    for case in cases:
        started = case.opened_at or case.created_at
        if case.status in BACKLOG:
            ref["status"][case.status] += 1
            age = (today - day(started)).days
            ref["bands"][
                next(
                    i
                    for i, (first, last) in enumerate(selectors.AGE_BANDS)
                    if age >= first and (last is None or age <= last)
                )
            ] += 1
            if case.status == "awaiting_citizen":
                ref["waiting"] += 1
            if case.status in WORK and case.due_at:
                if day(case.due_at) < today:
                    ref["overdue"] += 1
                elif day(case.due_at) <= today + dt.timedelta(days=2):
                    ref["due_soon"] += 1
        if case.status in ("approved", "rejected") and since <= day(case.decided_at) <= until:
            ref["decided"] += 1
            ref["on_time"] += case.due_at is None or case.decided_at <= case.due_at
            key = (case.version.service.slug, case.step)
            hours = (case.decided_at - started).total_seconds() / 3600
            ref["durations"].setdefault(key, []).append(hours)
            ref["per_day"][day(case.decided_at)] = ref["per_day"].get(day(case.decided_at), 0) + 1
    return ref


def nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def assert_matches(figures: selectors.Figures, ref: dict) -> None:
    assert {s: n for s, _label, n in figures.backlog_by_status} == ref["status"]
    assert [n for _label, n in figures.backlog_by_age] == ref["bands"]
    assert figures.deadlines == {"overdue": ref["overdue"], "due_soon": ref["due_soon"]}
    assert figures.waiting_on_citizens == ref["waiting"]
    assert figures.sla["decided"] == ref["decided"]
    assert figures.sla["on_time"] == ref["on_time"]
    steps = {(s["service"], s["step"]): s for s in figures.steps}
    assert set(steps) == set(ref["durations"])
    for key, values in ref["durations"].items():
        assert steps[key]["decided"] == len(values)
        for fraction, name in ((0.5, "median_hours"), (0.9, "p90_hours")):
            exact = nearest_rank(values, fraction)
            shown = steps[key][name]
            # The histogram's promise: never below, at most 25 % above (or within the first hour).
            assert shown >= exact - 1e-9
            assert shown <= max(1.0, exact * histogram.RATIO) + 1e-9
    assert {d: n for d, n in figures.per_day if n} == ref["per_day"]
    assert sum(n for _w, _monday, n in figures.per_week) == ref["decided"]


@pytest.fixture
def city(demo, clock):
    """Applications routed, worked and decided over a few weeks of the test clock."""
    applications = []
    for i in range(6):
        application = submit_moving(vehicle=i % 2 == 0, school=i % 3 == 0)
        route(application)
        applications.append(application)
        clock.advance(dt.timedelta(hours=7 * i + 3))
    tax = clerk_of(Department.objects.get(slug="tax"))
    household = clerk_of(Department.objects.get(slug="household-registration"))
    for n, application in enumerate(applications):
        cases = {c.step: c for c in Case.objects.filter(application=application)}
        if n % 2 == 0:
            actions.case_claim(case=cases["tax"], actor=tax)
            clock.advance(dt.timedelta(days=n + 1, hours=5))
            actions.case_approve(case=cases["tax"], actor=tax)
        elif n == 1:
            actions.case_request_info(case=cases["tax"], actor=tax, message="Your payslip?")
        else:
            clock.advance(dt.timedelta(days=9))  # past its due date
            actions.case_reject(case=cases["tax"], actor=tax, reason="Not complete.")
        if n == 4:
            actions.case_approve(case=cases["household"], actor=household)
        route(application)
    clock.advance(dt.timedelta(days=2))
    return applications


def test_every_figure_equals_the_reference_for_the_city(city):
    refresh()
    today = timezone.localdate()
    scope = selectors.dashboard_scope(user=user("supervisor@demo.gov"))
    assert scope is not None and scope.city
    filters = selectors.parse_filters({}, scope=scope, today=today)
    figures = selectors.figures(scope=scope, filters=filters, today=today)
    assert figures.sla["decided"] > 0 and figures.steps
    assert_matches(figures, reference(since=filters.since, until=filters.until, today=today))
    assert figures.incidents_open == 0


def test_every_figure_equals_the_reference_by_department_service_and_period(city):
    refresh()
    today = timezone.localdate()
    scope = selectors.dashboard_scope(user=user("supervisor@demo.gov"))
    tax = Department.objects.get(slug="tax")
    since = today - dt.timedelta(days=6)
    for query in (
        {"department": "tax"},
        {"service": "moving-house"},
        {"since": since.isoformat(), "until": today.isoformat(), "department": "tax"},
    ):
        filters = selectors.parse_filters(query, scope=scope, today=today)
        figures = selectors.figures(scope=scope, filters=filters, today=today)
        ref = reference(
            departments=[tax] if "department" in query else None,
            service=filters.service,
            since=filters.since,
            until=filters.until,
            today=today,
        )
        assert_matches(figures, ref)


def test_a_lead_sees_their_department_only(city):
    refresh()
    today = timezone.localdate()
    lead = user("lead.tax@demo.gov")
    scope = selectors.dashboard_scope(user=lead)
    assert scope is not None and not scope.city
    assert [d.slug for d in scope.departments] == ["tax"]
    filters = selectors.parse_filters({}, scope=scope, today=today)
    figures = selectors.figures(scope=scope, filters=filters, today=today)
    tax = Department.objects.get(slug="tax")
    assert_matches(
        figures, reference(departments=[tax], since=filters.since, until=filters.until, today=today)
    )
    assert figures.incidents_open is None
    body = api_for("lead.tax@demo.gov").get("/api/v1/dashboard/").json()
    assert [d["department"] for d in body["departments"]] == ["tax"]
    response = api_for("lead.tax@demo.gov").get("/api/v1/dashboard/?department=education")
    assert response.status_code == 400 and "department" in response.json()["errors"]


def test_the_summaries_follow_each_action_and_a_second_run_changes_nothing(demo, clock):
    tax_clerk = clerk_of(Department.objects.get(slug="tax"))
    application = submit_moving(vehicle=True)
    withdrawn = submit_moving()
    route(application)
    route(withdrawn)
    scope = selectors.dashboard_scope(user=user("supervisor@demo.gov"))

    def check():
        refresh()
        today = timezone.localdate()
        filters = selectors.parse_filters({}, scope=scope, today=today)
        figures = selectors.figures(scope=scope, filters=filters, today=today)
        assert_matches(figures, reference(since=filters.since, until=filters.until, today=today))
        cells = sorted(BacklogCount.objects.values_list("status", "count"))
        decisions = sorted(DecisionCount.objects.values_list("step", "count"))
        assert refresh() >= 0
        assert sorted(BacklogCount.objects.values_list("status", "count")) == cells
        assert sorted(DecisionCount.objects.values_list("step", "count")) == decisions
        assert not BacklogCount.objects.filter(count__lte=0).exists()

    check()
    tax = Case.objects.get(application=application, step="tax")
    actions.case_claim(case=tax, actor=tax_clerk)
    check()
    clock.advance(dt.timedelta(hours=30))
    actions.case_request_info(case=tax, actor=tax_clerk, message="Which car?")
    check()
    tax.refresh_from_db()
    actions.case_citizen_replied(case=tax, citizen=application.citizen, message="The red one.")
    route(application)
    check()
    clock.advance(dt.timedelta(days=3))
    tax.refresh_from_db()
    actions.case_approve(case=tax, actor=tax_clerk)
    route(application)
    check()
    service_actions.application_withdraw(application=withdrawn, actor=withdrawn.citizen)
    route(withdrawn)
    check()
    assert Case.objects.filter(application=withdrawn, status="cancelled").exists()


def test_a_late_commit_within_the_overlap_is_counted(demo, clock):
    """A transaction that committed after a refresh, with an `updated_at` before the latest one
    read, is read on the next run."""
    application = submit_moving()
    route(application)
    refresh()
    case = Case.objects.filter(application=application, status="open").first()
    Case.objects.filter(pk=case.pk).update(
        status="in_progress", updated_at=timezone.now() - dt.timedelta(minutes=1)
    )
    refresh()
    assert BacklogCount.objects.filter(status="in_progress").exists()


# --- Who sees it, and refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "page", "api"),
    [
        ("citizen@demo.gov", 404, 403),
        ("clerk.tax@demo.gov", 404, 403),
        ("lead.tax@demo.gov", 200, 200),
        ("supervisor@demo.gov", 200, 200),
        ("admin@demo.gov", 200, 200),
    ],
)
def test_who_has_a_dashboard(demo, client, email, page, api):
    client.force_login(user(email))
    assert client.get("/dashboard/").status_code == page
    assert client.get("/dashboard/status.csv").status_code == page
    assert client.get("/dashboard/charts/status.svg").status_code == page
    assert api_for(email).get("/api/v1/dashboard/").status_code == api


def test_signed_out_is_sent_to_sign_in(demo, client):
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/api/v1/dashboard/").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2026-13-01", "since"),
        ("until=yesterday", "until"),
        ("since=2026-12-01&until=2026-11-01", "since"),
        ("since=2020-01-01&until=2026-01-01", "since"),
        ("department=no-such", "department"),
        ("service=no-such", "service"),
        ("since=2026-02-30", "since"),
        ("until=0001-01-05", "until"),  # the default start would be before the first day
        ("since=9999-12-31&until=9999-12-31", "since"),  # the days would run past the last
        ("since=1999-12-31", "since"),
    ],
)
def test_bad_filters_are_a_400_naming_the_filter(demo, client, query, field):
    client.force_login(user("supervisor@demo.gov"))
    page = client.get(f"/dashboard/?{query}")
    assert page.status_code == 400
    assert f'href="#filter-{field}"' in page.content.decode()
    assert client.get(f"/dashboard/status.csv?{query}").status_code == 400
    assert client.get(f"/dashboard/charts/status.svg?{query}").status_code == 400
    response = api_for("supervisor@demo.gov").get(f"/api/v1/dashboard/?{query}")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not AuditEvent.objects.filter(action="dashboard.export").exists()


def test_unknown_table_or_chart_is_a_404(demo, client):
    client.force_login(user("supervisor@demo.gov"))
    assert client.get("/dashboard/secrets.csv").status_code == 404
    assert client.get("/dashboard/charts/secrets.svg").status_code == 404


# --- Page, CSV, charts, API -------------------------------------------------------------------


def test_the_page_shows_the_figures_links_and_their_age(city, client):
    refresh()
    client.force_login(user("supervisor@demo.gov"))
    body = client.get("/dashboard/").content.decode()
    assert "Figures as of" in body
    assert "/workbench/?due=breached" in body
    assert "/workbench/?status=awaiting_citizen" in body
    assert "/audit/?since=" in body and "action=incident.create" in body
    assert "<caption>Backlog by status</caption>" in body
    assert 'src="/dashboard/charts/status.svg?' in body
    assert "dashboard-refresh.js" in body and "<script>" not in body


def test_the_page_in_chinese(city, client):
    refresh()
    client.force_login(user("lead.tax@demo.gov"))
    client.cookies["django_language"] = "zh-hans"
    response = client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()


def test_csv_export_is_audited(city, client):
    refresh()
    client.force_login(user("lead.tax@demo.gov"))
    response = client.get("/dashboard/departments.csv")
    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("Department,Backlog")
    assert len(lines) == 2  # the heading and the tax office
    event = AuditEvent.objects.get(action="dashboard.export")
    assert event.actor.email == "lead.tax@demo.gov"
    assert event.details["table"] == "departments" and event.details["rows"] == 1
    assert event.actor_department is None
    assert client.get("/dashboard/departments.csv?department=tax").status_code == 200
    chosen = AuditEvent.objects.filter(action="dashboard.export").latest("pk")
    assert chosen.actor_department.slug == "tax" and chosen.details["department"] == "tax"


def test_many_count_rows_change_in_one_batch(demo):
    """A batch that changes thousands of count rows (the first refresh of a seeded database)
    finds the existing ones in slices: one OR of them all is too deep for SQLite."""
    from collections import Counter

    from services.models import Service

    tax, service = Department.objects.get(slug="tax"), Service.objects.order_by("pk").first()
    start = dt.date(2026, 1, 1)

    def keys(n):
        return [(tax.pk, service.pk, "open", start + dt.timedelta(days=i), start) for i in range(n)]

    oversight_actions._apply(BacklogCount, oversight_actions._BACKLOG_KEYS, Counter(keys(600)))
    more = Counter({key: 2 for key in keys(1500)})
    oversight_actions._apply(BacklogCount, oversight_actions._BACKLOG_KEYS, more)
    counts = sorted(BacklogCount.objects.filter(department=tax).values_list("count", flat=True))
    assert counts == [2] * 900 + [3] * 600


def test_charts_are_svg_without_script(city, client):
    refresh()
    client.force_login(user("supervisor@demo.gov"))
    for name in ("status", "age", "departments", "days", "weeks", "steps"):
        response = client.get(f"/dashboard/charts/{name}.svg")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
        svg = response.content.decode()
        assert "<svg" in svg and "<script" not in svg
    steps = client.get("/dashboard/charts/steps.svg").content.decode()
    assert "Median (hours)" in steps and "90th percentile (hours)" in steps


def test_api_gives_the_same_figures(city):
    refresh()
    body = api_for("supervisor@demo.gov").get("/api/v1/dashboard/?department=tax").json()
    today = timezone.localdate()
    tax = Department.objects.get(slug="tax")
    ref = reference(
        departments=[tax], since=today - dt.timedelta(days=29), until=today, today=today
    )
    assert {r["status"]: r["count"] for r in body["backlog_by_status"]} == ref["status"]
    assert body["decided"] == ref["decided"] and body["on_time"] == ref["on_time"]
    assert body["overdue"] == ref["overdue"]
    assert body["refreshed_at"] is not None


def test_dashboard_reads_no_case_row(city, django_assert_max_num_queries):
    """The figures come from the summary tables: no query reads the case table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    refresh()
    scope = selectors.dashboard_scope(user=user("supervisor@demo.gov"))
    filters = selectors.parse_filters({}, scope=scope, today=timezone.localdate())
    with CaptureQueriesContext(connection) as queries:
        selectors.figures(scope=scope, filters=filters)
    assert not [q for q in queries if "workflows_case" in q["sql"]]
    assert len(queries) <= 12


# --- The histogram ----------------------------------------------------------------------------


def test_histogram_percentiles_are_within_their_bucket():
    durations = [0.5, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377]
    buckets = [(histogram.bucket_of(dt.timedelta(hours=h)), 1) for h in durations]
    for fraction in (0.5, 0.9, 1.0):
        exact = nearest_rank(durations, fraction)
        shown = histogram.percentile(buckets, fraction)
        assert exact <= shown <= exact * histogram.RATIO
    assert histogram.percentile([], 0.5) is None
    assert histogram.bucket_of(dt.timedelta(0)) == 0


def test_the_default_view_reads_the_stored_counts_which_equal_the_live_ones(city):
    """Beat stores the counts of each default view (the city's, each department's); they are
    what the summary tables give for the same filters, and the dashboard reads just that row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oversight.models import DashboardSnapshot

    refresh()
    today = timezone.localdate()
    since, until = selectors.default_period(today)
    tax = Department.objects.get(slug="tax")
    for department in (None, tax.pk):
        stored = DashboardSnapshot.objects.get(key=selectors.snapshot_key(department))
        live = selectors.counts(
            department_ids=None if department is None else [department],
            service_id=None,
            since=since,
            until=until,
            today=today,
        )
        assert stored.day == today
        assert {k: v for k, v in stored.data.items() if k in live} == live
        assert stored.data["incidents_open"] == 0 and stored.data["refreshed_at"]
    scope = selectors.dashboard_scope(user=user("supervisor@demo.gov"))
    filters = selectors.parse_filters({}, scope=scope, today=today)
    selectors.figures(scope=scope, filters=filters, today=today)  # the catalog's names, once
    with CaptureQueriesContext(connection) as queries:
        selectors.figures(scope=scope, filters=filters, today=today)
    assert len(queries) == 1  # the stored counts (with the time of the refresh)
    # Yesterday's stored counts are not used: the figures are computed from the tables.
    DashboardSnapshot.objects.update(day=today - dt.timedelta(days=1))
    with CaptureQueriesContext(connection) as queries:
        figures = selectors.figures(scope=scope, filters=filters, today=today)
    assert len(queries) == 5  # no stored counts for today, the summary state, three reads
    assert_matches(figures, reference(since=since, until=until, today=today))
