"""Service accounts: a department's back-office system on the case API with scoped tokens.

It sees and does what the department's clerks may, within its token's scopes; it is refused on
every other API and at the browser's sign-in; its acts are audited as the department's system
with the responsible official; administrators and the department's leads manage it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts import service_accounts as sa
from accounts.models import ApiToken, Department, User
from audit.models import AuditEvent
from tests.factories import CaseFactory, api_for
from workflows.models import Case

pytestmark = pytest.mark.django_db

ALL_SCOPES = ["cases:read", "cases:decide", "cases:request_info", "cases:reveal"]


def tax() -> Department:
    return Department.objects.get(slug="tax")


def user(email: str) -> User:
    return User.objects.get(email=email)


def make_account(department: str = "tax", label: str = "Tax back office") -> User:
    dept = Department.objects.get(slug=department)
    return sa.service_account_create(
        actor=user("admin@demo.gov"),
        department=dept,
        label=label,
        responsible=user(f"lead.{department}@demo.gov"),
    )


def token_client(account: User, scopes=None, days: int = 30) -> tuple[APIClient, ApiToken]:
    issued = sa.service_token_issue(
        actor=None, account=account, scopes=scopes or ALL_SCOPES, days=days
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    return client, issued.token


def events(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


# --- What a service account is --------------------------------------------------------------


def test_a_service_account_is_a_clerk_of_its_department_with_the_system_role(demo):
    account = make_account()
    assert account.primary_role == "system" and account.is_portal_staff
    assert not account.has_usable_password()
    assert account.department_roles == {tax().pk: "clerk"}
    assert (account.service_responsible.email, account.service_created_by.email) == (
        "lead.tax@demo.gov",
        "admin@demo.gov",
    )
    created = events(action="service_account.create")[-1]
    assert created.details["responsible"] == user("lead.tax@demo.gov").pk
    # Never a lead, nor a member of another department, nor a portal-wide role.
    from accounts import actions

    with pytest.raises(actions.AccountError):
        actions.membership_grant(actor=None, user=account, department=tax(), role="lead")
    other = Department.objects.get(slug="transport")
    with pytest.raises(actions.AccountError):
        actions.membership_grant(actor=None, user=account, department=other, role="clerk")
    account.staff_role = "admin"
    with pytest.raises(actions.AccountError):
        actions.user_admin_save(
            actor=user("admin@demo.gov"), user=account, fields=[], created=False
        )


def test_a_service_account_cannot_sign_in_through_the_browser(demo, client):
    account = make_account()
    # Even with a password and a verified address set behind the portal's back.
    from allauth.account.models import EmailAddress

    account.set_password("a long enough password 1")
    account.save(update_fields=["password"])
    EmailAddress.objects.create(user=account, email=account.email, primary=True, verified=True)
    response = client.post(
        "/accounts/login/", {"login": account.email, "password": "a long enough password 1"}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)
    assert client.get("/workbench/").status_code in (302, 404)


# --- The case API, within the department's grants and the token's scopes ---------------------


def test_it_sees_its_departments_cases_and_not_anothers(demo):
    case = CaseFactory(step="tax")
    other = case.application.cases.exclude(department=case.department).first()
    api, _token = token_client(make_account())
    listed = api.get("/api/v1/cases/?status=all").json()["results"]
    assert {c["reference"] for c in listed} == {case.reference}
    assert api.get(f"/api/v1/cases/{case.reference}/").status_code == 200
    if other is not None:
        assert api.get(f"/api/v1/cases/{other.reference}/").status_code == 404
        assert api.post(f"/api/v1/cases/{other.reference}/claim/").status_code == 404


def test_it_decides_with_the_decide_scope_and_is_audited_as_the_system(demo):
    case = CaseFactory(step="tax")
    account = make_account()
    api, _token = token_client(account)
    assert api.post(f"/api/v1/cases/{case.reference}/claim/").status_code == 200
    approved = api.post(f"/api/v1/cases/{case.reference}/approve/", {"note": ""}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    acted = events(actor=account)
    assert {e.action for e in acted} >= {"case.claim", "case.approve", "pii.read"}
    responsible = user("lead.tax@demo.gov").pk
    for event in acted:
        assert event.actor_role == "system"
        assert event.details["responsible"] == responsible
    decided = next(e for e in acted if e.action == "case.approve")
    assert decided.actor_department == tax()


def test_a_missing_scope_is_a_403_and_changes_nothing(demo):
    case = CaseFactory(step="tax")
    account = make_account()
    reader, _token = token_client(account, scopes=["cases:read"])
    before = AuditEvent.objects.count()
    for action, data in [
        ("claim", {}),
        ("approve", {"note": ""}),
        ("reject", {"reason": "The documents do not match."}),
        ("request-info", {"message": "Which date?"}),
        ("reveal", {"fields": ["applicant.national_id"], "purpose": "Check the register"}),
    ]:
        response = reader.post(f"/api/v1/cases/{case.reference}/{action}/", data, format="json")
        assert response.status_code == 403, action
        assert "scope" in response.json()["detail"], action
    assert AuditEvent.objects.count() == before
    assert Case.objects.get(pk=case.pk).status == case.status
    decider, _token = token_client(account, scopes=["cases:decide"])
    before = AuditEvent.objects.count()
    assert decider.get(f"/api/v1/cases/{case.reference}/").status_code == 403
    assert decider.get("/api/v1/cases/").status_code == 403
    # An action answers with the case (its answers, masked, and a `pii.read`): it needs the
    # read scope as well, or a decide-only token would read every case by claiming it.
    claimed = decider.post(f"/api/v1/cases/{case.reference}/claim/")
    assert claimed.status_code == 403 and "cases:read" in claimed.json()["detail"]
    assert AuditEvent.objects.count() == before
    assert Case.objects.get(pk=case.pk).status == case.status


def test_reveal_needs_its_scope_and_a_purpose(demo):
    case = CaseFactory(step="tax")
    api, _token = token_client(make_account(), scopes=["cases:reveal"])
    url = f"/api/v1/cases/{case.reference}/reveal/"
    data = {"fields": ["applicant.national_id"], "purpose": "Match the tax register"}
    assert api.post(url, data, format="json").status_code == 200
    assert events(action="pii.reveal")[-1].actor_role == "system"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/applications/"),
        ("get", "/api/v1/me/"),
        ("get", "/api/v1/me/tokens/"),
        ("delete", "/api/v1/me/tokens/"),
        ("get", "/api/v1/me/data-access/"),
        ("get", "/api/v1/audit/events/"),
        ("get", "/api/v1/departments/"),
        ("get", "/api/v1/service-accounts/"),
        ("get", "/api/v1/delegations/"),
        ("post", "/api/v1/cases/search/"),
    ],
)
def test_its_token_is_refused_on_every_other_api(demo, method, url):
    account = make_account()
    api, token = token_client(account)
    response = getattr(api, method)(url, {}, format="json")
    assert response.status_code == 403, response.content
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_notes_and_assign_are_refused(demo):
    case = CaseFactory(step="tax")
    api, _token = token_client(make_account())
    url = f"/api/v1/cases/{case.reference}"
    assert api.post(f"{url}/notes/", {"text": "x"}, format="json").status_code == 403
    assert api.post(f"{url}/assign/", {"assignee": "a@b.c"}, format="json").status_code == 403


# --- Token life: expiry, revocation, rotation, deactivation ----------------------------------


def test_expired_revoked_and_rotated_tokens(demo, clock):
    CaseFactory(step="tax")
    account = make_account()
    api, token = token_client(account, days=1)
    assert api.get("/api/v1/cases/").status_code == 200
    clock.advance(days=1, seconds=1)
    assert api.get("/api/v1/cases/").status_code == 401  # expired

    api, token = token_client(account, days=30)
    issued = sa.service_token_rotate(actor=user("lead.tax@demo.gov"), token=token, overlap_hours=2)
    assert issued.token.scopes == token.scopes
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    assert api.get("/api/v1/cases/").status_code == 200  # the overlap
    assert fresh.get("/api/v1/cases/").status_code == 200
    rotated = events(action="token.rotate")[-1]
    assert rotated.details["new_token"] == issued.token.pk
    clock.advance(hours=2, seconds=1)
    assert api.get("/api/v1/cases/").status_code == 401  # the overlap ended
    assert fresh.get("/api/v1/cases/").status_code == 200

    sa.service_token_revoke(actor=user("lead.tax@demo.gov"), token=issued.token)
    assert fresh.get("/api/v1/cases/").status_code == 401


def test_deactivation_kills_its_tokens(demo):
    account = make_account()
    api, _token = token_client(account)
    second, _other = token_client(account, scopes=["cases:read"])
    sa.service_account_deactivate(actor=user("lead.tax@demo.gov"), account=account)
    assert api.get("/api/v1/cases/").status_code == 401
    assert second.get("/api/v1/cases/").status_code == 401
    assert not ApiToken.objects.filter(user=account).exists()
    account.refresh_from_db()
    assert not account.is_active and account.department_roles == {}
    with pytest.raises(sa.InvalidInput):
        sa.service_token_issue(actor=None, account=account, scopes=["cases:read"], days=1)


# --- The citizen sees the system -------------------------------------------------------------


def test_the_citizens_data_access_names_the_system(demo, client):
    case = CaseFactory(step="tax")
    citizen = case.application.citizen
    api, _token = token_client(make_account(label="Tax back office"))
    assert api.get(f"/api/v1/cases/{case.reference}/").status_code == 200
    rows = api_for(citizen).get("/api/v1/me/data-access/").json()["results"]
    mine = [r for r in rows if "Tax back office" in (r["actor_line"] or "")]
    assert mine and mine[0]["staff"] == "Department system: Tax back office"
    client.force_login(citizen)
    page = client.get("/me/data-access/").content.decode()
    assert "Department system: Tax back office" in page


# --- Management: who may, and bad input -------------------------------------------------------


def test_admins_and_the_departments_leads_manage_through_the_api(demo):
    lead = api_for("lead.tax@demo.gov")
    created = lead.post(
        "/api/v1/service-accounts/",
        {"department": "tax", "label": "Tax back office", "responsible": "clerk.tax@demo.gov"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    issued = lead.post(
        f"/api/v1/service-accounts/{pk}/tokens/",
        {"scopes": ["cases:read", "cases:decide"], "days": 90},
        format="json",
    )
    assert issued.status_code == 201 and len(issued.json()["key"]) > 20
    event = events(action="token.issue")[-1]
    assert event.details["scopes"] == ["cases:read", "cases:decide"]
    assert event.actor == user("lead.tax@demo.gov")
    token_id = issued.json()["id"]
    assert api_for("admin@demo.gov").get("/api/v1/service-accounts/").json()["count"] == 1
    detail = lead.get(f"/api/v1/service-accounts/{pk}/").json()
    assert [t["id"] for t in detail["tokens"]] == [token_id]
    assert "key" not in detail["tokens"][0]
    rotated = lead.post(
        f"/api/v1/service-accounts/{pk}/tokens/{token_id}/rotate/",
        {"overlap_hours": 0},
        format="json",
    )
    assert rotated.status_code == 201
    assert lead.delete(f"/api/v1/service-accounts/{pk}/tokens/{token_id}/").status_code == 204
    assert lead.delete(f"/api/v1/service-accounts/{pk}/tokens/").json() == {"revoked": 1}
    gone = lead.post(f"/api/v1/service-accounts/{pk}/deactivate/")
    assert gone.status_code == 200 and gone.json()["active"] is False

    # Another department's lead: not theirs (404), nor may they create one for tax (403).
    other = api_for("lead.transport@demo.gov")
    assert other.get(f"/api/v1/service-accounts/{pk}/").status_code == 404
    refused = other.post(
        "/api/v1/service-accounts/",
        {"department": "tax", "label": "Mine", "responsible": "clerk.tax@demo.gov"},
        format="json",
    )
    assert refused.status_code == 403
    for email in ("clerk.tax@demo.gov", "supervisor@demo.gov", "citizen@demo.gov"):
        api = api_for(email)
        assert api.get("/api/v1/service-accounts/").status_code == 403, email
        assert api.get(f"/api/v1/service-accounts/{pk}/").status_code == 403, email


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label": "", "responsible": "clerk.tax@demo.gov"}, "label"),
        ({"label": "x" * 101, "responsible": "clerk.tax@demo.gov"}, "label"),
        ({"label": "Back office", "responsible": "clerk.transport@demo.gov"}, "responsible"),
        ({"label": "Back office", "responsible": "nobody@demo.gov"}, "responsible"),
        ({"label": "Back office", "responsible": "citizen@demo.gov"}, "responsible"),
        ({"label": "Back office", "responsible": "x", "extra": 1}, "extra"),
    ],
)
def test_bad_account_input_is_a_400_and_creates_nothing(demo, body, field):
    before = User.objects.count()
    response = api_for("admin@demo.gov").post(
        "/api/v1/service-accounts/", {"department": "tax", **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert User.objects.count() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": [], "days": 30}, "scopes"),
        ({"scopes": ["cases:everything"], "days": 30}, "scopes"),
        ({"scopes": ["cases:read"], "days": 366}, "days"),
        ({"scopes": ["cases:read"], "days": 0}, "days"),
        ({"scopes": ["cases:read"]}, "days"),
        ({"scopes": "cases:read", "days": 30}, "scopes"),
    ],
)
def test_bad_token_input_is_a_400_and_issues_nothing(demo, body, field):
    account = make_account()
    response = api_for("lead.tax@demo.gov").post(
        f"/api/v1/service-accounts/{account.pk}/tokens/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ApiToken.objects.filter(user=account).exists()


def test_pages_for_managers_only(demo, client):
    account = make_account()
    for email in ("clerk.tax@demo.gov", "supervisor@demo.gov", "citizen@demo.gov"):
        client.force_login(user(email))
        assert client.get("/service-accounts/").status_code == 404, email
        assert client.get(f"/service-accounts/{account.pk}/").status_code == 404, email
    client.force_login(user("lead.transport@demo.gov"))
    assert client.get("/service-accounts/").status_code == 200
    assert client.get(f"/service-accounts/{account.pk}/").status_code == 404

    client.force_login(user("lead.tax@demo.gov"))
    assert "Tax back office" in client.get("/service-accounts/").content.decode()
    issued = client.post(
        f"/service-accounts/{account.pk}/tokens/", {"scopes": ["cases:read"], "days": "30"}
    )
    token = ApiToken.objects.get(user=account)
    assert issued.status_code == 200 and "data-new-key" in issued.content.decode()
    assert client.get(f"/service-accounts/{account.pk}/").status_code == 200
    refused = client.post(f"/service-accounts/{account.pk}/tokens/", {"days": "30"})
    assert refused.status_code == 400 and ApiToken.objects.filter(user=account).count() == 1
    created = client.post(
        "/service-accounts/",
        {"department": "tax", "label": "Second system", "responsible": "clerk.tax@demo.gov"},
    )
    assert created.status_code == 302
    assert User.objects.filter(service_label="Second system").exists()
    rotated = client.post(
        f"/service-accounts/{account.pk}/tokens/{token.pk}/rotate/", {"overlap_hours": "1"}
    )
    assert rotated.status_code == 200 and ApiToken.objects.filter(user=account).count() == 2
    client.post(f"/service-accounts/{account.pk}/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.filter(user=account).count() == 1
    client.post(f"/service-accounts/{account.pk}/deactivate/")
    assert not User.objects.get(pk=account.pk).is_active


# --- The command ---------------------------------------------------------------------------


def test_the_command_prints_the_token_last(demo):
    out = StringIO()
    call_command(
        "create_service_account",
        "tax",
        "Tax back office",
        "--responsible",
        "lead.tax@demo.gov",
        "--scopes",
        "cases:read",
        "cases:decide",
        "--days",
        "90",
        stdout=out,
    )
    key = out.getvalue().strip().splitlines()[-1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/cases/").status_code == 200
    token = ApiToken.objects.get(user__service_label="Tax back office")
    assert token.scopes == ["cases:read", "cases:decide"]
    assert token.expires_at - token.created_at == dt.timedelta(days=90)
    with pytest.raises(CommandError):
        call_command(
            "create_service_account",
            "tax",
            "Other",
            "--responsible",
            "lead.tax@demo.gov",
            "--scopes",
            "cases:all",
            "--days",
            "90",
            stdout=StringIO(),
        )
    assert not User.objects.filter(service_label="Other").exists()


def test_it_is_never_a_delegate_nor_a_consulted_official(demo):
    from workflows import consultations, delegation

    account = make_account()
    lead = user("lead.tax@demo.gov")
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(sa.InvalidInput) as refused:
        delegation.delegation_create(
            actor=lead,
            department=tax(),
            delegator=user("clerk.tax@demo.gov"),
            delegate=account,
            scope="role",
            starts_at=now,
            ends_at=now + dt.timedelta(days=2),
            now=now,
        )
    assert "delegate" in refused.value.errors
    case = CaseFactory(step="household")
    with pytest.raises(sa.InvalidInput) as refused:
        consultations.case_share(
            case=case,
            actor=user("clerk.household-registration@demo.gov"),
            official=account,
            reason="Check the tax register for this address",
            fields=list(case.fields[:1]),
        )
    assert "official" in refused.value.errors


def test_the_admin_shows_no_role_to_give_a_service_account(demo, client):
    account = make_account()
    client.force_login(user("admin@demo.gov"))
    page = client.get(f"/admin/accounts/user/{account.pk}/change/").content.decode()
    assert 'name="staff_role"' not in page and 'name="is_superuser"' not in page
    person = client.get(f"/admin/accounts/user/{user('clerk.tax@demo.gov').pk}/change/")
    assert 'name="staff_role"' in person.content.decode()


def test_the_admin_shows_why_a_service_account_cannot_lead_instead_of_failing(demo, client):
    from accounts.models import Membership
    from tests.factories import UserFactory

    account = make_account()
    membership = Membership.objects.get(user=account)
    client.force_login(UserFactory(admin=True))
    response = client.post(f"/admin/accounts/membership/{membership.pk}/change/", {"role": "lead"})
    assert response.status_code == 200
    assert "clerk of its own department only" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "clerk"
