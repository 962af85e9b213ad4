"""Need to know and separation of duties on the workbench (API and pages).

- A department whose step waits for another one (`pending`) sees that the case exists but none
  of the citizen's values: no answers (masked or not), no reveal (409), no file (409), no
  decision, and a national-ID search does not find the case; all of it once the step opens.
- Staff never work their own application: claim, decide, ask, note, reveal and being assigned
  are refused (403), a lead's assignee choices leave them out, and the workbench shows them no
  answers of it (a colleague handles it).
- The national-ID search is a POST whose number stays out of every address, is audited
  (`pii.search`, without the number) and shows on the citizen's "who looked at my data"; a
  national ID in a GET query is refused (400) and not searched.
"""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEvent
from services import actions as service_actions
from services.validators import make_national_id
from tests.data import LI_WEI_MOVING as MOVING
from tests.data import NEWBORN, PDF
from tests.factories import ApplicationFactory, UserFactory, api_for, newborn_draft
from workflows import actions, routing
from workflows.models import Case

pytestmark = pytest.mark.django_db

NATIONAL_ID = MOVING["applicant.national_id"]
MASKED_ID = "1101**********002X"
SEARCH = "/api/v1/cases/search/"


def user(email: str) -> User:
    return User.objects.get(email=email)


def status_of(case: Case) -> tuple[str, int | None]:
    case.refresh_from_db()
    return case.status, case.assignee_id


# --- A step that has not opened -------------------------------------------------------------


@pytest.fixture
def school(demo):
    """A moving-house application whose school step (education) waits for the household step."""
    application = ApplicationFactory(routed=True, school=True)
    cases = {c.step: c for c in application.cases.all()}
    assert cases["school"].status == "pending"
    return application, cases


def test_a_pending_department_sees_the_case_but_no_value(school):
    _application, cases = school
    ref = cases["school"].reference
    body = api_for("clerk.education@demo.gov").get(f"/api/v1/cases/{ref}/").json()
    assert (body["reference"], body["status"], body["service"], body["step"]) == (
        ref,
        "pending",
        "moving-house",
        "school",
    )
    assert body["answers"] == [] and "waits for another department" in body["answers_withheld"]
    text = str(body)
    for value in ("Li Wei", "Li Xiaogang", "13812345678", "138****5678", "Li*"):
        assert value not in text
    assert not AuditEvent.objects.filter(action="pii.read", target_ref=ref).exists()


def test_a_pending_department_cannot_reveal_or_decide(school):
    _application, cases = school
    case = cases["school"]
    api = api_for("clerk.education@demo.gov")
    url = f"/api/v1/cases/{case.reference}"
    reveal = api.post(
        f"{url}/reveal/",
        {"fields": ["applicant.full_name"], "purpose": "Checking the name of the parent"},
        format="json",
    )
    assert reveal.status_code == 409 and "waits for another department" in reveal.json()["detail"]
    assert "Li Wei" not in reveal.content.decode()
    # Even a reveal that is malformed otherwise is refused for the state, not for its input.
    malformed = api.post(f"{url}/reveal/", {"fields": ["x"], "purpose": "y"}, format="json")
    assert malformed.status_code == 409
    for action, data in [
        ("claim", {}),
        ("approve", {"note": ""}),
        ("reject", {"reason": "No school place."}),
        ("request-info", {"message": "Which school?"}),
    ]:
        assert api.post(f"{url}/{action}/", data, format="json").status_code == 409, action
    lead = api_for("lead.education@demo.gov")
    assigned = lead.post(f"{url}/assign/", {"assignee": "clerk.education@demo.gov"}, format="json")
    assert assigned.status_code == 409
    assert status_of(case) == ("pending", None)
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_the_page_of_a_pending_step_shows_no_value_and_refuses_a_reveal(school, client):
    _application, cases = school
    ref = cases["school"].reference
    client.force_login(user("clerk.education@demo.gov"))
    page = client.get(f"/workbench/cases/{ref}/").content.decode()
    assert "data-withheld" in page and "Li Wei" not in page and "Li Xiaogang" not in page
    assert "Reveal ticked values" not in page
    refused = client.post(
        f"/workbench/cases/{ref}/reveal/",
        {"fields": ["applicant.full_name"], "purpose": "Checking the name of the parent"},
    )
    assert refused.status_code == 409 and "Li Wei" not in refused.content.decode()
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_values_appear_once_the_step_opens(school):
    application, cases = school
    actions.case_approve(
        case=cases["household"], actor=user("clerk.household-registration@demo.gov")
    )
    routing.advance(application_id=application.pk)
    ref = cases["school"].reference
    api = api_for("clerk.education@demo.gov")
    body = api.get(f"/api/v1/cases/{ref}/").json()
    assert body["status"] == "open" and body["answers_withheld"] == ""
    assert {row["key"] for row in body["answers"]} >= {"applicant.full_name", "school.grade"}
    revealed = api.post(
        f"/api/v1/cases/{ref}/reveal/",
        {"fields": ["applicant.full_name"], "purpose": "Checking the name of the parent"},
        format="json",
    )
    assert revealed.json() == {"values": {"applicant.full_name": "Li Wei"}}


@pytest.fixture
def newborn(demo, settings, tmp_path):
    """A newborn application with a birth certificate; its household step waits for the birth
    registration. The step is given the certificate's field here, as a department's definition
    could, so the file is one it will need once it opens."""
    settings.MEDIA_ROOT = tmp_path / "private-media"
    citizen = UserFactory()
    application, _attachment = newborn_draft(
        citizen, answers={**NEWBORN, "child.date_of_birth": "2025-06-01"}
    )
    service_actions.application_submit(application=application, actor=citizen)
    routing.advance(application_id=application.pk)
    cases = {c.step: c for c in application.cases.all()}
    household = cases["household"]
    household.fields = [*household.fields, "birth.certificate"]
    household.save(update_fields=["fields"])
    assert household.status == "pending"
    return application, cases


def test_a_pending_step_downloads_no_file_until_it_opens(newborn, client):
    application, cases = newborn
    token = application.attachments.get().token
    url = f"/workbench/cases/{cases['household'].reference}/files/{token}/"
    client.force_login(user("clerk.household-registration@demo.gov"))
    refused = client.get(url)
    assert refused.status_code == 409 and refused.get("Content-Disposition") is None
    assert not AuditEvent.objects.filter(action="pii.read").exists()
    actions.case_approve(case=cases["register-birth"], actor=user("clerk.civil-registry@demo.gov"))
    routing.advance(application_id=application.pk)
    downloaded = client.get(url)
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content) == PDF


def test_a_national_id_search_does_not_find_a_step_that_has_not_opened(newborn):
    application, cases = newborn
    api = api_for("clerk.household-registration@demo.gov")
    number = {"national_id": NEWBORN["applicant.national_id"]}
    assert api.post(SEARCH, number, format="json").json()["results"] == []
    actions.case_approve(case=cases["register-birth"], actor=user("clerk.civil-registry@demo.gov"))
    routing.advance(application_id=application.pk)
    found = api.post(SEARCH, number, format="json").json()["results"]
    assert [c["reference"] for c in found] == [cases["household"].reference]


def test_a_search_does_not_find_a_step_that_does_not_see_the_national_id(school):
    application, cases = school
    actions.case_approve(
        case=cases["household"], actor=user("clerk.household-registration@demo.gov")
    )
    routing.advance(application_id=application.pk)
    # The school step is open now, but it is not given the applicant's national ID.
    api = api_for("clerk.education@demo.gov")
    assert api.post(SEARCH, {"national_id": NATIONAL_ID}, format="json").json()["count"] == 0


# --- Staff and their own applications -----------------------------------------------------------


@pytest.fixture
def own(demo):
    """clerk.tax@demo.gov moves house: the tax case is their own application."""
    clerk = user("clerk.tax@demo.gov")
    application = ApplicationFactory(routed=True, citizen=clerk)
    return application, application.cases.get(step="tax")


def test_staff_cannot_act_on_their_own_application(own):
    _application, case = own
    api = api_for("clerk.tax@demo.gov")
    url = f"/api/v1/cases/{case.reference}"
    for action, data in [
        ("claim", {}),
        ("approve", {"note": ""}),
        ("reject", {"reason": "Wrong address."}),
        ("request-info", {"message": "Please confirm."}),
        ("notes", {"text": "My own move."}),
        ("reveal", {"fields": ["applicant.national_id"], "purpose": "Checking my own record"}),
    ]:
        response = api.post(f"{url}/{action}/", data, format="json")
        assert response.status_code == 403, action
        assert "your own application" in response.json()["detail"], action
    assert status_of(case) == ("open", None)
    assert not case.notes.exists()
    assert not AuditEvent.objects.filter(
        action__in=["pii.reveal", "case.claim", "case.approve"]
    ).exists()


def test_staff_read_no_answers_of_their_own_application(own, client):
    _application, case = own
    body = api_for("clerk.tax@demo.gov").get(f"/api/v1/cases/{case.reference}/").json()
    assert body["answers"] == [] and "your own application" in body["answers_withheld"]
    assert MASKED_ID not in str(body) and NATIONAL_ID not in str(body)
    client.force_login(user("clerk.tax@demo.gov"))
    page = client.get(f"/workbench/cases/{case.reference}/").content.decode()
    assert "data-own-application" in page and MASKED_ID not in page
    assert "Claim this case" not in page and "Approve" not in page
    refused = client.post(f"/workbench/cases/{case.reference}/approve/", {"note": ""})
    assert refused.status_code == 403
    assert status_of(case) == ("open", None)


def test_a_lead_cannot_assign_staff_their_own_application(own, client):
    _application, case = own
    lead = api_for("lead.tax@demo.gov")
    url = f"/api/v1/cases/{case.reference}/assign/"
    refused = lead.post(url, {"assignee": "clerk.tax@demo.gov"}, format="json")
    assert refused.status_code == 403 and "own application" in refused.json()["detail"]
    assert status_of(case) == ("open", None)
    client.force_login(user("lead.tax@demo.gov"))
    page = client.get(f"/workbench/cases/{case.reference}/").content.decode()
    choices = page.split('id="assignee"', 1)[1].split("</select>", 1)[0]
    assert "lead.tax@demo.gov" in choices and "clerk.tax@demo.gov" not in choices
    # A colleague handles it.
    assert lead.post(url, {"assignee": "lead.tax@demo.gov"}, format="json").status_code == 200
    approved = lead.post(f"/api/v1/cases/{case.reference}/approve/", {"note": ""}, format="json")
    assert approved.json()["status"] == "approved"


def test_a_lead_cannot_take_their_own_application(demo):
    lead = user("lead.tax@demo.gov")
    application = ApplicationFactory(routed=True, citizen=lead)
    case = application.cases.get(step="tax")
    api = api_for("lead.tax@demo.gov")
    taken = api.post(
        f"/api/v1/cases/{case.reference}/assign/", {"assignee": "lead.tax@demo.gov"}, format="json"
    )
    assert taken.status_code == 403
    assert api.post(f"/api/v1/cases/{case.reference}/claim/").status_code == 403
    assert status_of(case) == ("open", None)


# --- The national-ID search ---------------------------------------------------------------------


def test_the_search_page_keeps_the_number_out_of_every_address(routed, client):
    _application, cases = routed
    client.force_login(user("clerk.tax@demo.gov"))
    response = client.post("/workbench/search/", {"national_id": NATIONAL_ID.lower()})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/workbench/?") and NATIONAL_ID.lower() not in location.lower()
    page = client.get(location).content.decode()
    assert cases["tax"].reference in page and cases["vehicle"].reference not in page
    assert NATIONAL_ID not in page
    # The session keeps the cases found, not the number.
    assert NATIONAL_ID not in str(dict(client.session.items())).upper()
    # Another session cannot replay the result's address.
    client.force_login(user("lead.tax@demo.gov"))
    other = client.get(location).content.decode()
    assert "That search is over" in other


def test_a_search_is_audited_without_the_number_and_the_citizen_sees_it(routed, client):
    application, cases = routed
    api_for("clerk.tax@demo.gov").post(SEARCH, {"national_id": NATIONAL_ID}, format="json")
    event = AuditEvent.objects.get(action="pii.search")
    assert event.subject == application.citizen
    assert event.actor == user("clerk.tax@demo.gov") and event.actor_department.slug == "tax"
    assert event.details["cases"] == [cases["tax"].reference]
    assert event.details["fields"] == ["applicant.national_id"]
    assert (event.target_ref, event.details["application"]) == (application.reference,) * 2
    assert NATIONAL_ID not in str(event.details).upper()
    assert application.national_id_index not in str(event.details)

    client.force_login(application.citizen)
    rows = client.get("/api/v1/me/data-access/").json()["results"]
    assert [(r["action"], r["department"]) for r in rows] == [("pii.search", "Tax Bureau")]
    page = client.get("/me/data-access/").content.decode()
    assert "Found by a national ID search" in page and "Tax Bureau" in page
    # Supervisors find the search in the application's history.
    supervisor = APIClient()
    supervisor.force_authenticate(user("supervisor@demo.gov"))
    history = supervisor.get(f"/api/v1/audit/applications/{application.reference}/history/")
    assert "pii.search" in [e["action"] for e in history.json()["results"]]


def test_a_search_that_finds_nobody_is_audited_without_a_subject(routed):
    other = make_national_id("110105", datetime.date(1990, 1, 1), "123")
    body = api_for("clerk.tax@demo.gov").post(SEARCH, {"national_id": other}, format="json")
    assert body.json() == {"results": [], "count": 0}
    event = AuditEvent.objects.get(action="pii.search")
    assert event.subject is None and event.details["matches"] == 0
    assert event.actor_department.slug == "tax"


def test_an_invalid_number_is_refused_and_not_recorded(routed, client):
    api = api_for("clerk.tax@demo.gov")
    refused = api.post(SEARCH, {"national_id": "110105194912310029"}, format="json")
    assert refused.status_code == 400 and "national_id" in refused.json()["errors"]
    assert api.post(SEARCH, {}, format="json").status_code == 400
    client.force_login(user("clerk.tax@demo.gov"))
    assert client.post("/workbench/search/", {"national_id": "12345"}).status_code == 400
    assert not AuditEvent.objects.filter(action="pii.search").exists()


def test_a_national_id_in_a_get_query_is_refused_and_not_searched(routed, client):
    _application, cases = routed
    api = api_for("clerk.tax@demo.gov")
    for q in (NATIONAL_ID, NATIONAL_ID.lower(), f"id {NATIONAL_ID}"):
        response = api.get("/api/v1/cases/", {"q": q})
        assert response.status_code == 400, q
        assert "/api/v1/cases/search/" in response.json()["errors"]["q"][0]
        assert NATIONAL_ID not in response.content.decode()
    client.force_login(user("clerk.tax@demo.gov"))
    page = client.get("/workbench/", {"q": NATIONAL_ID})
    assert page.status_code == 400 and cases["tax"].reference not in page.content.decode()
    assert not AuditEvent.objects.filter(action="pii.search").exists()
    # References are still searched from the address.
    found = api.get("/api/v1/cases/", {"q": cases["tax"].reference}).json()["results"]
    assert [c["reference"] for c in found] == [cases["tax"].reference]


def test_citizens_search_nothing_and_record_nothing(routed, client):
    application, _cases = routed
    api = APIClient()
    api.force_authenticate(application.citizen)
    assert api.post(SEARCH, {"national_id": NATIONAL_ID}, format="json").json()["count"] == 0
    client.force_login(application.citizen)
    assert client.post("/workbench/search/", {"national_id": NATIONAL_ID}).status_code == 404
    assert not AuditEvent.objects.filter(action="pii.search").exists()
