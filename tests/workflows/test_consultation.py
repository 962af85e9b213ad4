"""Consultation: a case shared, read-only, with another department or one official, for a
stated reason, until an optional end, showing only the fields chosen (workflows.consultations).

- the consultee finds it in the "consulted" list, sees only the shared fields (masked), reveals
  one with a purpose, gives an opinion that appears on the timeline, and does nothing else;
- only the case's department shares and withdraws; bad input is a 400 that changes nothing;
- withdrawal and expiry (read-time, with an injected clock) end access at once; beat's sweep
  removes the permission and records the end; a closed case's consultations end too;
- everything is audited, and the citizen's "who looked at my data" says with whom and why.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import Department, User
from audit.models import AuditEvent
from config.settings import base as base_settings
from services.errors import InvalidInput
from services.selectors import application_answers
from tests.factories import CaseFactory, api_for
from workflows import actions, consultations, permissions, tasks
from workflows.models import Case, CaseUserObjectPermission, Consultation, Opinion

pytestmark = pytest.mark.django_db

HOUSEHOLD, MARKET = "household-registration", "market-regulation"
CLERK = f"clerk.{HOUSEHOLD}@demo.gov"
CONSULTEE = f"clerk.{MARKET}@demo.gov"
REASON = "Is this address a registered business premises?"
SHARED = ["applicant.national_id", "move.date"]


def user(email: str) -> User:
    return User.objects.get(email=email)


@pytest.fixture
def case(demo) -> Case:
    return CaseFactory(step="household")


def share_url(case: Case) -> str:
    return f"/api/v1/cases/{case.reference}/share/"


def share(case: Case, *, by: str = CLERK, **body):
    body = {"department": MARKET, "reason": REASON, "fields": SHARED, **body}
    return api_for(by).post(share_url(case), body, format="json")


def consultee_grants(case: Case) -> int:
    group = Department.objects.get(slug=MARKET).group
    return case.casegroupobjectpermission_set.filter(
        group=group, permission__codename=permissions.CONSULT
    ).count()


def events(case: Case, action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(target_ref=case.reference, action=action).order_by("id"))


# --- The consultee's way through -----------------------------------------------------------


def test_a_shared_case_is_listed_shown_revealed_and_given_an_opinion(case):
    answers = application_answers(case.application)
    shared = share(case)
    assert shared.status_code == 201, shared.content
    assert shared.json()["fields"] == SHARED
    assert consultee_grants(case) == 1

    consultee = api_for(CONSULTEE)
    listed = consultee.get("/api/v1/cases/consulted/").json()["results"]
    assert [r["case"]["reference"] for r in listed] == [case.reference]
    assert listed[0]["consultation"]["reason"] == REASON
    # The shared case is not in the consultee's inbox: it is not their department's.
    assert case.reference not in consultee.get("/api/v1/cases/").content.decode()

    detail = consultee.get(f"/api/v1/cases/{case.reference}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert [a["key"] for a in detail.json()["answers"]] == SHARED
    national_id = answers["applicant.national_id"]
    assert national_id not in body  # masked
    assert answers["applicant.address"] not in body  # not shared

    revealed = consultee.post(
        f"/api/v1/cases/{case.reference}/reveal/",
        {"fields": ["applicant.national_id"], "purpose": "Match the business register"},
        format="json",
    )
    assert revealed.status_code == 200
    assert revealed.json()["values"] == {"applicant.national_id": national_id}
    not_shared = consultee.post(
        f"/api/v1/cases/{case.reference}/reveal/",
        {"fields": ["applicant.address"], "purpose": "Match the business register"},
        format="json",
    )
    assert not_shared.status_code == 400

    opinion = consultee.post(
        f"/api/v1/cases/{case.reference}/opinions/",
        {"text": "No business is registered there."},
        format="json",
    )
    assert opinion.status_code == 201, opinion.content
    for who in (CLERK, CONSULTEE):
        timeline = api_for(who).get(f"/api/v1/cases/{case.reference}/").json()["timeline"]
        assert {"kind": "opinion", "text": "No business is registered there."}.items() <= next(
            e for e in timeline if e["kind"] == "opinion"
        ).items()

    # Audited: the sharing, the consultee's reveal (as their department), the opinion.
    (shared_event,) = events(case, "case.share")
    assert shared_event.actor == user(CLERK)
    assert shared_event.subject == case.application.citizen
    assert shared_event.actor_department.slug == HOUSEHOLD
    assert shared_event.details["consultee_department"] == MARKET
    assert shared_event.details["fields"] == SHARED
    assert REASON not in shared_event.purpose  # sealed under the application's data key
    (reveal,) = events(case, "pii.reveal")
    assert reveal.actor_department.slug == MARKET
    assert reveal.details["consultations"] == [shared.json()["id"]]
    (given,) = events(case, "case.opinion")
    assert given.actor == user(CONSULTEE)
    # The opinion is sealed in its row.
    assert "No business" not in Opinion.objects.get().text


def test_a_consultee_does_nothing_else_and_sees_no_internal_note(case):
    clerk = api_for(CLERK)
    clerk.post(f"/api/v1/cases/{case.reference}/notes/", {"text": "Landlord called."}, "json")
    assert share(case).status_code == 201
    consultee = api_for(CONSULTEE)
    before = Case.objects.filter(pk=case.pk).values().get()
    for action, body in [
        ("claim", {}),
        ("release", {}),
        ("approve", {"note": ""}),
        ("reject", {"reason": "No."}),
        ("request-info", {"message": "Send the contract."}),
        ("notes", {"text": "Mine."}),
        ("assign", {"assignee": CONSULTEE}),
        ("share", {"department": "tax", "reason": REASON, "fields": SHARED}),
    ]:
        answer = consultee.post(f"/api/v1/cases/{case.reference}/{action}/", body, format="json")
        assert answer.status_code == 403, (action, answer.content)
    assert Case.objects.filter(pk=case.pk).values().get() == before
    assert Consultation.objects.count() == 1
    body = consultee.get(f"/api/v1/cases/{case.reference}/").content.decode()
    assert "Landlord called." not in body
    assert '"note"' not in body
    # ... nor on the page: no decision forms, no note form, the opinion form.
    page = _client(CONSULTEE).get(f"/workbench/cases/{case.reference}/").content.decode()
    assert "Landlord called." not in page
    assert "/approve/" not in page and "/note/" not in page and "/claim/" not in page
    assert f"/workbench/cases/{case.reference}/opinion/" in page
    for action in ("claim", "approve", "note", "assign"):
        page_post = _client(CONSULTEE).post(
            f"/workbench/cases/{case.reference}/{action}/", {"text": "x", "assignee": CLERK}
        )
        assert page_post.status_code == 403, action


def _client(email: str) -> Client:
    return _client_for(user(email))


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("clerk.tax@demo.gov", 404),  # another department: does not see the case
        ("supervisor@demo.gov", 403),  # reads every case, acts on none
        (f"lead.{MARKET}@demo.gov", 404),
    ],
)
def test_only_the_case_department_shares(case, who, status):
    assert share(case, by=who).status_code == status
    assert Consultation.objects.count() == 0
    assert consultee_grants(case) == 0


def test_the_citizen_cannot_share_their_own_case(case):
    citizen = case.application.citizen
    assert api_for(citizen).post(share_url(case), {}, format="json").status_code == 404
    assert Consultation.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "Too short"}, "reason"),
        ({"fields": ["business.name"]}, "fields"),
        ({"fields": []}, "fields"),
        ({"expires_at": "2001-01-01"}, "expires_at"),
        ({"expires_at": "soon"}, "expires_at"),
        ({"official": "clerk.tax@demo.gov"}, "consultee"),  # both
        ({"department": ""}, "consultee"),  # neither
        ({"department": "no-such-office"}, "department"),
        ({"department": HOUSEHOLD}, "department"),  # its own
        ({"department": "", "official": f"lead.{HOUSEHOLD}@demo.gov"}, "official"),  # sees it
        ({"department": "", "official": "nobody@example.com"}, "official"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(case, body, field):
    answer = share(case, **body)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"]
    assert Consultation.objects.count() == 0
    assert consultee_grants(case) == 0
    assert not events(case, "case.share")


def test_the_applicant_cannot_be_consulted_as_an_official(case):
    citizen = case.application.citizen
    with pytest.raises(InvalidInput):
        consultations.case_share(
            case=case, actor=user(CLERK), official=citizen, reason=REASON, fields=SHARED
        )
    assert Consultation.objects.count() == 0


def test_sharing_with_one_official(case):
    official = user("clerk.education@demo.gov")
    answer = share(case, department="", official=official.email)
    assert answer.status_code == 201, answer.content
    assert CaseUserObjectPermission.objects.filter(user=official, content_object=case).exists()
    assert api_for(official).get(f"/api/v1/cases/{case.reference}/").status_code == 200
    # ... and only them: their colleagues do not see it.
    assert (
        api_for("lead.education@demo.gov").get(f"/api/v1/cases/{case.reference}/").status_code
        == 404
    )
    # Sharing again with the same official while it is open is refused.
    assert share(case, department="", official=official.email).status_code == 409


# --- Withdrawal and expiry -----------------------------------------------------------------


def test_withdrawal_ends_access_at_once(case):
    consultation = share(case).json()
    consultee = api_for(CONSULTEE)
    assert consultee.get(f"/api/v1/cases/{case.reference}/").status_code == 200
    # The consultee cannot withdraw it; another case's path does not find it.
    url = f"/api/v1/cases/{case.reference}/consultations/{consultation['id']}/revoke/"
    assert consultee.post(url).status_code == 403
    other = CaseFactory(step="household")
    wrong = f"/api/v1/cases/{other.reference}/consultations/{consultation['id']}/revoke/"
    assert api_for(CLERK).post(wrong).status_code == 404
    revoked = api_for(CLERK).post(url)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] and revoked.json()["ended_at"]
    assert consultee.get(f"/api/v1/cases/{case.reference}/").status_code == 404
    assert consultee.get("/api/v1/cases/consulted/").json()["results"] == []
    assert consultee_grants(case) == 0
    assert api_for(CLERK).post(url).status_code == 409  # already ended
    (event,) = events(case, "case.share_revoke")
    assert event.actor == user(CLERK)
    assert event.subject == case.application.citizen


def test_expiry_is_enforced_at_read_time_then_swept(case, clock):
    start = clock.now()
    shared = consultations.case_share(
        case=case,
        actor=user(CLERK),
        department=Department.objects.get(slug=MARKET),
        reason=REASON,
        fields=SHARED,
        expires_at=start + dt.timedelta(hours=1),
    )
    consultee = user(CONSULTEE)
    assert permissions.case_access(user=consultee, case=case).can_view
    later = start + dt.timedelta(hours=2)
    assert not permissions.case_access(user=consultee, case=case, now=later).can_view
    assert not permissions.consulted_cases(user=consultee, now=later).exists()
    assert permissions.consulted_cases(user=consultee, now=start).exists()

    clock.advance(hours=2)
    client = api_for(consultee)
    assert client.get(f"/api/v1/cases/{case.reference}/").status_code == 404
    assert client.get("/api/v1/cases/consulted/").json()["results"] == []
    assert consultee_grants(case) == 1  # until the sweep
    # Beat's task (run here in the test's process) ends it and removes the permission.
    assert tasks.maintenance_expire_consultations.apply().get() == 1
    shared.refresh_from_db()
    assert shared.ended_at == clock.now() and shared.revoked_at is None
    assert consultee_grants(case) == 0
    (event,) = events(case, "case.share_expire")
    assert event.actor is None and event.details["why"] == "expired"
    assert consultations.consultations_expire() == 0  # nothing left to end


def test_a_closed_case_ends_its_consultations(case):
    share(case)
    actions.case_approve(case=case, actor=user(CLERK))
    # At once, before any sweep: the read-time check wants an open case.
    assert api_for(CONSULTEE).get(f"/api/v1/cases/{case.reference}/").status_code == 404
    assert not permissions.consulted_cases(user=user(CONSULTEE)).filter(pk=case.pk).exists()
    assert consultee_grants(case) == 1  # the row is still there until beat removes it
    assert consultations.consultations_expire() == 1
    assert consultee_grants(case) == 0
    assert api_for(CONSULTEE).get(f"/api/v1/cases/{case.reference}/").status_code == 404
    (event,) = events(case, "case.share_expire")
    assert event.details["why"] == "case_closed"
    # A closed case is not shared again.
    assert share(case).status_code == 409


def test_beat_runs_the_sweep():
    entry = next(
        e
        for e in settings_beat().values()
        if e["task"] == "workflows.tasks.maintenance_expire_consultations"
    )
    assert entry["schedule"] <= 600


def settings_beat() -> dict:
    return base_settings.CELERY_BEAT_SCHEDULE


def test_sharing_an_expired_share_again_is_allowed(case, clock):
    department = Department.objects.get(slug=MARKET)
    consultations.case_share(
        case=case,
        actor=user(CLERK),
        department=department,
        reason=REASON,
        fields=SHARED,
        expires_at=clock.now() + dt.timedelta(minutes=5),
    )
    clock.advance(minutes=10)
    again = consultations.case_share(
        case=case, actor=user(CLERK), department=department, reason=REASON, fields=["move.date"]
    )
    # The sweep of the first does not take away the permission the second gives.
    assert consultations.consultations_expire() == 1
    assert consultee_grants(case) == 1
    access = permissions.case_access(user=user(CONSULTEE), case=case)
    assert access.is_consultee and access.fields == ("move.date",)
    assert again.ended_at is None


# --- Pages ---------------------------------------------------------------------------------


def test_pages_share_list_give_an_opinion_and_withdraw(case):
    clerk = _client(CLERK)
    page = clerk.get(f"/workbench/cases/{case.reference}/").content.decode()
    assert f"/workbench/cases/{case.reference}/share/" in page
    refused = clerk.post(
        f"/workbench/cases/{case.reference}/share/",
        {"department": MARKET, "reason": "short", "fields": SHARED},
    )
    assert refused.status_code == 400
    assert Consultation.objects.count() == 0
    shared = clerk.post(
        f"/workbench/cases/{case.reference}/share/",
        {"department": MARKET, "reason": REASON, "fields": SHARED, "expires_at": "2099-12-31"},
    )
    assert shared.status_code == 302
    consultation = Consultation.objects.get()
    assert consultation.reason_plain == REASON
    assert consultation.expires_at.date() == dt.date(2099, 12, 31)

    consultee = _client(CONSULTEE)
    assert _client(CLERK).get("/workbench/").content.decode().count("/workbench/consulted/")
    listed = consultee.get("/workbench/consulted/").content.decode()
    assert case.reference in listed and REASON in listed
    given = consultee.post(
        f"/workbench/cases/{case.reference}/opinion/", {"text": "Looks fine to us."}
    )
    assert given.status_code == 302
    assert consultee.post(f"/workbench/cases/{case.reference}/opinion/", {"text": " "}).status_code
    assert Opinion.objects.count() == 1
    # The clerk may not give an opinion: it is the consultee's.
    assert clerk.post(f"/workbench/cases/{case.reference}/opinion/", {"text": "x"}).status_code == (
        403
    )
    page = clerk.get(f"/workbench/cases/{case.reference}/").content.decode()
    assert "Looks fine to us." in page
    revoke = f"/workbench/cases/{case.reference}/consultations/{consultation.pk}/revoke/"
    assert revoke in page
    assert consultee.post(revoke).status_code == 403
    assert clerk.post(revoke).status_code == 302
    assert consultee.get(f"/workbench/cases/{case.reference}/").status_code == 404


# --- The citizen sees it -------------------------------------------------------------------


def test_the_citizen_sees_with_whom_and_why(case):
    share(case)
    api_for(CONSULTEE).get(f"/api/v1/cases/{case.reference}/")  # a masked read
    official = user("clerk.education@demo.gov")
    share(case, department="", official=official.email, reason="A second opinion on the school")
    citizen = case.application.citizen
    page = _client_for(citizen).get("/me/data-access/").content.decode()
    market = Department.objects.get(slug=MARKET).name
    assert f"Shared with: {market}" in page
    assert REASON in page
    assert f"Shared with: {official.full_name}" in page
    assert "A second opinion on the school" in page
    # The consultee's own read is listed under their department.
    rows = api_for(citizen).get("/api/v1/me/data-access/").json()["results"]
    reads = [r for r in rows if r["action"] == "pii.read" and r["consulted"]]
    assert reads and reads[0]["department_name"] == market
    assert reads[0]["staff"] == user(CONSULTEE).full_name


def test_erasure_destroys_the_reason(case):
    share(case)
    consultation = Consultation.objects.get()
    actions.application_cases_erase(application=case.application)
    consultation.refresh_from_db()
    assert consultation.reason == ""


def _client_for(who: User) -> Client:
    client = Client()
    client.force_login(who)
    return client
