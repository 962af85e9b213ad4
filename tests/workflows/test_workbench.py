"""The department workbench (API and pages): only the department's cases, only the step's
fields, personal values masked until revealed with a purpose (audited), decisions, refusals."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Department, User
from audit.models import AuditEvent
from audit.purposes import is_sealed_purpose, purpose_of
from tests.factories import api_for, submit_moving
from workflows import actions, routing
from workflows.models import Case

pytestmark = pytest.mark.django_db


def user(email):
    return User.objects.get(email=email)


def test_clerk_inbox_lists_only_their_departments_cases_with_counts(routed):
    application, cases = routed
    body = api_for("clerk.tax@demo.gov").get("/api/v1/cases/").json()
    assert [c["reference"] for c in body["results"]] == [cases["tax"].reference]
    assert body["counts"]["open"] == 1 and body["counts"]["approved"] == 0
    assert body["results"][0]["application"] == application.reference


def test_citizen_and_other_departments_see_no_case(routed):
    _application, cases = routed
    assert api_for("citizen@demo.gov").get("/api/v1/cases/").json()["results"] == []
    for email in ("citizen@demo.gov", "clerk.education@demo.gov"):
        assert api_for(email).get(f"/api/v1/cases/{cases['tax'].reference}/").status_code == 404


def test_supervisor_reads_everything_but_decides_nothing(routed):
    _application, cases = routed
    api = api_for("supervisor@demo.gov")
    assert len(api.get("/api/v1/cases/").json()["results"]) == 3
    assert api.get(f"/api/v1/cases/{cases['tax'].reference}/").status_code == 200
    response = api.post(
        f"/api/v1/cases/{cases['tax'].reference}/approve/", {"note": ""}, format="json"
    )
    assert response.status_code == 403
    assert Case.objects.get(pk=cases["tax"].pk).status == "open"


def test_case_shows_only_the_steps_fields_with_personal_values_masked(routed):
    _application, cases = routed
    body = (
        api_for("clerk.transport@demo.gov")
        .get(f"/api/v1/cases/{cases['vehicle'].reference}/")
        .json()
    )
    keys = [row["key"] for row in body["answers"]]
    assert keys == [
        "applicant.full_name",
        "applicant.national_id",
        "move.new_address",
        "vehicle.plate",
    ]
    values = {row["key"]: row["value"] for row in body["answers"]}
    assert values["applicant.national_id"] == "1101**********002X"
    assert "Li Wei" not in str(body) and "11010519491231002X" not in str(body)
    assert {d["department"] for d in body["other_departments"]} == {"household-registration", "tax"}
    event = AuditEvent.objects.get(action="pii.read", target_ref=cases["vehicle"].reference)
    assert event.details["fields"] == sorted(keys) and event.details["masked"] is True
    assert event.subject == cases["vehicle"].application.citizen


def test_reveal_needs_a_purpose_and_is_audited(routed):
    _application, cases = routed
    api = api_for("clerk.tax@demo.gov")
    url = f"/api/v1/cases/{cases['tax'].reference}/reveal/"
    refused = api.post(url, {"fields": ["applicant.national_id"], "purpose": "x"}, format="json")
    assert refused.status_code == 400 and "purpose" in refused.json()["errors"]
    foreign = api.post(
        url, {"fields": ["vehicle.plate"], "purpose": "checking the plate"}, format="json"
    )
    assert foreign.status_code == 400 and "fields" in foreign.json()["errors"]
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()
    response = api.post(
        url,
        {"fields": ["applicant.national_id"], "purpose": "Matching the tax record"},
        format="json",
    )
    assert response.json() == {"values": {"applicant.national_id": "11010519491231002X"}}
    event = AuditEvent.objects.get(action="pii.reveal")
    # Stored sealed (the chain covers the token); opened for display.
    assert "Matching" not in event.purpose and is_sealed_purpose(event.purpose)
    assert (purpose_of(event).text, event.details["fields"]) == (
        "Matching the tax record",
        ["applicant.national_id"],
    )
    assert "11010519491231002X" not in str(event.details)


def test_search_by_national_id_uses_the_blind_index(routed):
    _application, cases = routed
    api = api_for("clerk.tax@demo.gov")
    search = "/api/v1/cases/search/"
    found = api.post(search, {"national_id": "11010519491231002x"}, format="json").json()
    assert [c["reference"] for c in found["results"]] == [cases["tax"].reference]
    other = api.post(search, {"national_id": "110105194912310011"}, format="json").json()
    assert other == {"results": [], "count": 0}
    assert [
        c["reference"]
        for c in api.get(f"/api/v1/cases/?q={cases['tax'].reference}").json()["results"]
    ]


def test_decisions_through_the_api_and_wrong_states(routed):
    _application, cases = routed
    tax = cases["tax"].reference
    clerk, lead = api_for("clerk.tax@demo.gov"), api_for("lead.tax@demo.gov")
    assert clerk.post(f"/api/v1/cases/{tax}/claim/").json()["status"] == "in_progress"
    taken = lead.post(f"/api/v1/cases/{tax}/claim/")
    assert taken.status_code == 409 and "Someone else" in taken.json()["detail"]
    assert (
        clerk.post(f"/api/v1/cases/{tax}/reject/", {"reason": ""}, format="json").status_code == 400
    )
    assert (
        clerk.post(
            f"/api/v1/cases/{tax}/notes/", {"text": "Called the citizen"}, format="json"
        ).status_code
        == 200
    )
    approved = clerk.post(f"/api/v1/cases/{tax}/approve/", {"note": "All good"}, format="json")
    assert approved.json()["status"] == "approved"
    again = clerk.post(f"/api/v1/cases/{tax}/approve/", {"note": ""}, format="json")
    assert again.status_code == 409
    timeline = clerk.get(f"/api/v1/cases/{tax}/").json()["timeline"]
    assert [e["kind"] for e in timeline if e["kind"] in ("case.claim", "note", "case.approve")] == [
        "case.claim",
        "note",
        "case.approve",
    ]


def test_only_leads_assign_and_only_within_the_department(routed):
    _application, cases = routed
    tax = cases["tax"].reference
    clerk_refused = api_for("clerk.tax@demo.gov").post(
        f"/api/v1/cases/{tax}/assign/", {"assignee": "lead.tax@demo.gov"}, format="json"
    )
    assert clerk_refused.status_code == 403
    lead = api_for("lead.tax@demo.gov")
    outsider = lead.post(
        f"/api/v1/cases/{tax}/assign/", {"assignee": "clerk.education@demo.gov"}, format="json"
    )
    assert outsider.status_code == 400
    done = lead.post(
        f"/api/v1/cases/{tax}/assign/", {"assignee": "clerk.tax@demo.gov"}, format="json"
    )
    assert done.json()["assignee"] == "clerk.tax@demo.gov"


def every_page(api, url: str) -> list[dict]:
    """The results of a cursor-paged list, following `next` to the last page."""
    results = []
    while url:
        body = api.get(url).json()
        results += body["results"]
        url = body["next"]
    return results


def test_inbox_pages_by_due_date_with_a_cursor_and_constant_queries(demo):
    for _ in range(7):
        routing.advance(application_id=submit_moving().pk)
    api = api_for("clerk.tax@demo.gov")
    seen = [(c["due_at"], c["reference"]) for c in every_page(api, "/api/v1/cases/?page_size=3")]
    assert len(seen) == 7 and len({r for _, r in seen}) == 7
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    def queries(size):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"/api/v1/cases/?page_size={size}").status_code == 200
        return len(ctx)

    assert queries(2) == queries(7)


def test_cases_without_a_due_date_come_last_across_pages(demo):
    # School places wait (pending, no due date) until the household step is approved.
    for _ in range(3):
        routing.advance(application_id=submit_moving(school=True).pk)
    waiting = Case.objects.filter(step="school").order_by("id")
    opened = waiting[0]
    actions.case_approve(
        case=Case.objects.get(application=opened.application, step="household"),
        actor=user("clerk.household-registration@demo.gov"),
    )
    routing.advance(application_id=opened.application_id)
    pages = every_page(api_for("clerk.education@demo.gov"), "/api/v1/cases/?page_size=1")
    seen = [(c["reference"], c["due_at"]) for c in pages]
    assert [due is None for _, due in seen] == [False, True, True]
    assert [r for r, _ in seen[1:]] == [c.reference for c in waiting if c.pk != opened.pk]


def test_counts_stop_at_the_limit(demo):
    from workflows import selectors

    for _ in range(3):
        routing.advance(application_id=submit_moving().pk)
    cases = selectors.cases_for_user(user=user("clerk.tax@demo.gov"))
    assert selectors.status_counts(cases)["open"] == 3
    limits = {**selectors.count_limits(), "open": 2}
    assert selectors.status_counts(cases, limits=limits)["open"] == 2
    assert selectors.status_counts(cases.none())["open"] == 0


def test_decided_statuses_stop_counting_sooner_and_say_so(demo, client, monkeypatch):
    """Decided cases are counted up to their own, lower limit: the API says which limit each
    status has, and the page's tab shows "n+" when a decided status reached it."""
    from tests.factories import CaseFactory
    from workflows import selectors

    limits = selectors.count_limits()
    assert limits["approved"] == limits["rejected"] == limits["cancelled"] < limits["open"]
    assert limits["open"] == selectors.COUNT_LIMIT
    CaseFactory(approved=True)
    CaseFactory(approved=True)
    monkeypatch.setattr(selectors, "DECIDED_COUNT_LIMIT", 1)
    body = api_for("clerk.tax@demo.gov").get("/api/v1/cases/?status=all").json()
    assert body["counts"]["approved"] == 1
    assert body["counts_limits"]["approved"] == 1
    assert body["counts_limits"]["open"] == body["counts_limit"] == selectors.COUNT_LIMIT
    client.force_login(user("clerk.tax@demo.gov"))
    page = client.get("/workbench/?status=all").content.decode()
    assert '<span class="count">(1+)</span>' in page
    monkeypatch.setattr(selectors, "DECIDED_COUNT_LIMIT", 5)
    page = client.get("/workbench/?status=all").content.decode()
    assert '<span class="count">(2)</span>' in page and "(2+)" not in page


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%garbage",
        # A moment at the calendar's first day, east of UTC: before it in UTC (an overflow).
        "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzA1OjAwIiwgMV0",
    ],
)
def test_a_bad_cursor_starts_from_the_beginning(routed, cursor):
    response = api_for("clerk.tax@demo.gov").get(f"/api/v1/cases/?cursor={cursor}")
    assert response.status_code == 200


def test_workbench_pages(routed, client):
    application, cases = routed
    client.force_login(user("clerk.tax@demo.gov"))
    inbox = client.get("/workbench/").content.decode()
    assert cases["tax"].reference in inbox and cases["household"].reference not in inbox
    page = client.get(f"/workbench/cases/{cases['tax'].reference}/").content.decode()
    assert "1101**********002X" in page and "11010519491231002X" not in page
    revealed = client.post(
        f"/workbench/cases/{cases['tax'].reference}/reveal/",
        {"fields": ["applicant.national_id"], "purpose": "Matching the tax record"},
    ).content.decode()
    assert "11010519491231002X" in revealed
    client.post(f"/workbench/cases/{cases['tax'].reference}/approve/", {"note": "ok"})
    assert Case.objects.get(pk=cases["tax"].pk).status == "approved"
    assert client.get(f"/workbench/cases/{cases['household'].reference}/").status_code == 404
    client.force_login(application.citizen)
    assert client.get("/workbench/").status_code == 404


def test_inbox_queries_do_not_grow_with_the_number_of_cases(demo):
    """The clerk's "To do" page and the lead's queue cost the same number of queries with one
    case as with many, shared cases among them: the scope is a join, never a check per row."""
    from workflows import permissions
    from workflows.models import Consultation

    pages = {
        "clerk.tax@demo.gov": "/api/v1/cases/?status=open,in_progress,awaiting_citizen",
        "lead.tax@demo.gov": "/api/v1/cases/?department=tax&assignee=none&status=open",
    }

    def queries() -> dict[str, int]:
        counts = {}
        for email, url in pages.items():
            api = api_for(email)
            assert api.get(url).status_code == 200  # warm: content types, permissions
            with CaptureQueriesContext(connection) as ctx:
                body = api.get(url).json()
            counts[email] = (len(ctx), len(body["results"]))
        return counts

    routing.advance(application_id=submit_moving().pk)
    few = queries()
    for _ in range(6):
        routing.advance(application_id=submit_moving(vehicle=True).pk)
    # Some of the tax office's cases are shared with the transport office (consultations).
    lead, transport = user("lead.tax@demo.gov"), Department.objects.get(slug="transport")
    for case in Case.objects.filter(department__slug="tax").order_by("pk")[:3]:
        Consultation.objects.create(
            case=case, shared_by=lead, department=transport, reason="-", fields=case.fields[:1]
        )
        permissions.grant(codename=permissions.CONSULT, case=case, group=transport.group)
    many = queries()
    assert [n for n, _rows in few.values()] == [n for n, _rows in many.values()]
    assert [rows for _n, rows in few.values()] == [1, 1]
    assert [rows for _n, rows in many.values()] == [7, 7]


def test_step_names_come_from_the_catalog_kept_by_the_process(demo):
    """The inbox's step names come from the versions' workflows in the catalog the process
    keeps (no read of the versions once loaded); any change to a version, even a bulk update
    outside the actions, is seen by the next request (the catalog stamp)."""
    from services.models import ServiceVersion

    routing.advance(application_id=submit_moving().pk)
    api, url = api_for("clerk.tax@demo.gov"), "/api/v1/cases/"

    def page() -> tuple[str, bool]:
        with CaptureQueriesContext(connection) as ctx:
            body = api.get(url).json()
        read = any('FROM "services_serviceversion"' in q["sql"] for q in ctx.captured_queries)
        return body["results"][0]["step_name"], read

    name, _read = page()
    assert page() == (name, False)
    version = Case.objects.get(department__slug="tax").version
    workflow = version.workflow
    for step in workflow["steps"]:
        step["name"] = {"en": "Renamed step", "zh-hans": "改名的步骤"}
    ServiceVersion.objects.filter(pk=version.pk).update(workflow=workflow)
    renamed, read = page()
    assert read and renamed != name
