"""Delegation: a lead lets a member cover for an absent colleague (workflows.delegation).

- A `cases` delegation lends the absent member's permissions on the cases assigned to them: the
  delegate decides such a case, under their own name, and the audit records `on_behalf_of`
  (shown as "X on behalf of Y" on the timeline, the audit pages and the citizen's access log).
- A `role` delegation lends the absent member's whole role: a clerk covering a lead assigns.
- Nothing is lent before the start, after the end (injected clock), once withdrawn, to a
  delegate who left the department, or by a delegator who left it.
- Only a lead of the department creates one; the lead or the absent member withdraws it; bad
  input and outsiders are refused and nothing changes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import actions as account_actions
from accounts.models import Department, Membership, User
from audit import presenters
from audit.models import AuditEvent
from tests.factories import ApplicationFactory, CaseFactory, MembershipFactory, UserFactory, api_for
from workflows import actions, delegation, permissions, selectors
from workflows.actions import CaseError, CaseForbidden
from workflows.delegation import DelegationError, DelegationForbidden
from workflows.models import Case, Delegation

pytestmark = pytest.mark.django_db

TAX = "tax"
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def user(email: str) -> User:
    return User.objects.get(email=email)


@pytest.fixture
def tax(demo) -> Department:
    return Department.objects.get(slug=TAX)


@pytest.fixture
def absent(demo) -> User:
    """The demo tax clerk, who is away."""
    return user("clerk.tax@demo.gov")


@pytest.fixture
def lead(demo) -> User:
    return user("lead.tax@demo.gov")


@pytest.fixture
def cover(tax) -> User:
    """A second clerk of the tax bureau, who covers."""
    return MembershipFactory(
        department=tax, user=UserFactory(email="cover.tax@example.gov", full_name="Wang Fang")
    ).user


@pytest.fixture
def claimed(absent) -> Case:
    """A tax case the absent clerk claimed before going away."""
    return CaseFactory(step=TAX, claimed=True, clerk=absent)


def delegate(lead, tax, absent, cover, scope="cases", *, starts=-HOUR, ends=7 * DAY, now=None):
    now = now or timezone.now()
    return delegation.delegation_create(
        actor=lead,
        department=tax,
        delegator=absent,
        delegate=cover,
        scope=scope,
        starts_at=now + starts,
        ends_at=now + ends,
        now=now,
    )


def fresh(case: Case) -> Case:
    return Case.objects.select_related("application", "department").get(pk=case.pk)


def access(who: User, case: Case, now=None) -> permissions.CaseAccess:
    who.forget_roles()
    return permissions.case_access(user=who, case=fresh(case), now=now)


# --- Covering a clerk's cases ----------------------------------------------------------------


def test_without_a_delegation_a_colleague_cannot_decide_a_claimed_case(claimed, cover):
    with pytest.raises(CaseError):
        actions.case_approve(case=claimed, actor=cover)
    assert fresh(claimed).status == "in_progress"


def test_the_delegate_decides_the_absent_clerks_case_on_their_behalf(
    claimed, cover, absent, lead, tax
):
    made = delegate(lead, tax, absent, cover)
    event = AuditEvent.objects.get(action="delegation.create")
    assert event.actor == lead and event.target_ref == f"tax:{made.pk}"
    assert event.details["delegator"] == absent.pk and event.details["delegate"] == cover.pk
    assert event.details["scope"] == "cases" and event.details["department"] == TAX

    lent = access(cover, claimed)
    assert lent.on_behalf_of == absent and lent.can_act
    assert lent.delegated == {"view_case", "change_case"} and lent.department_role == "clerk"

    actions.case_approve(case=claimed, actor=cover, note="Checked while Li is away.")
    case = fresh(claimed)
    assert case.status == "approved" and case.assignee == cover
    approved = AuditEvent.objects.get(action="case.approve", target_ref=case.reference)
    assert approved.actor == cover and approved.details["on_behalf_of"] == absent.pk

    # The timeline and the audit pages say it with names.
    entry = next(e for e in selectors.case_timeline(case=case) if e["kind"] == "case.approve")
    assert entry["by"] == cover.email and entry["on_behalf_of"] == absent.email
    assert entry["on_behalf_of_name"] == absent.full_name
    row = presenters.event_rows([approved])[0]
    assert row["on_behalf_of"] == absent.email
    assert row["actor_line"] == f"Wang Fang on behalf of {absent.full_name}"


def test_the_delegate_acts_in_their_own_right_on_other_cases(claimed, cover, absent, lead, tax):
    delegate(lead, tax, absent, cover)
    other = CaseFactory(step=TAX)  # open, nobody's
    plain = access(cover, other)
    assert plain.on_behalf_of is None and plain.delegated == frozenset()
    actions.case_claim(case=other, actor=cover)
    claim = AuditEvent.objects.filter(action="case.claim", target_ref=other.reference).get()
    assert "on_behalf_of" not in claim.details


def test_a_reveal_and_a_read_on_behalf_show_on_the_citizens_access_log(
    client, claimed, cover, absent, lead, tax
):
    delegate(lead, tax, absent, cover)
    case = fresh(claimed)
    case.access = permissions.case_access(user=cover, case=case)
    actions.case_read(case=case, user=cover)
    actions.case_reveal(
        case=case, actor=cover, fields=["applicant.national_id"], purpose="Checking identity"
    )
    for action in ("pii.read", "pii.reveal"):
        event = AuditEvent.objects.get(action=action, actor=cover)
        assert event.details["on_behalf_of"] == absent.pk
    citizen = case.application.citizen
    rows = api_for(citizen).get("/api/v1/me/data-access/").json()["results"]
    mine = [r for r in rows if r["staff_id"] == cover.pk]
    assert mine and all(r["on_behalf_of_name"] == absent.full_name for r in mine)
    client.force_login(citizen)
    page = client.get("/me/data-access/")
    assert f"Wang Fang on behalf of {absent.full_name}" in page.content.decode()


def test_the_case_page_and_the_inbox_tell_the_delegate(client, claimed, cover, absent, lead, tax):
    delegate(lead, tax, absent, cover)
    other = CaseFactory(step=TAX)
    client.force_login(cover)
    page = client.get(f"/workbench/cases/{claimed.reference}/").content.decode()
    assert "data-on-behalf" in page and absent.full_name in page
    assert (
        "data-on-behalf" not in client.get(f"/workbench/cases/{other.reference}/").content.decode()
    )
    inbox = client.get("/workbench/").content.decode()
    assert "data-covering" in inbox and "data-covered" in inbox
    detail = api_for(cover).get(f"/api/v1/cases/{claimed.reference}/").json()
    assert detail["on_behalf_of"] == absent.email
    assert api_for(cover).get(f"/api/v1/cases/{other.reference}/").json()["on_behalf_of"] is None
    covered = api_for(cover).get("/api/v1/cases/?assignee=delegated").json()["results"]
    assert [c["reference"] for c in covered] == [claimed.reference]
    # Without a delegation the filter lists nothing (not every case).
    assert api_for(lead).get("/api/v1/cases/?assignee=delegated").json()["results"] == []


def test_the_delegate_releases_the_absent_clerks_case(claimed, cover, absent, lead, tax):
    delegate(lead, tax, absent, cover)
    actions.case_release(case=claimed, actor=cover)
    case = fresh(claimed)
    assert case.status == "open" and case.assignee is None
    event = AuditEvent.objects.get(action="case.release", target_ref=case.reference)
    assert event.details["on_behalf_of"] == absent.pk


# --- Covering a lead's role -------------------------------------------------------------------


def test_a_clerk_covering_a_leads_role_assigns(cover, absent, lead, tax):
    case = CaseFactory(step=TAX)
    with pytest.raises(CaseForbidden):
        actions.case_assign(case=case, actor=cover, assignee=absent)
    delegate(lead, tax, lead, cover, "role")
    lent = access(cover, case)
    assert lent.can_assign and lent.on_behalf_of == lead and lent.department_role == "lead"
    assert "assign_case" in lent.delegated and "consult_case" not in lent.perms
    actions.case_assign(case=case, actor=cover, assignee=absent)
    assert fresh(case).assignee == absent
    event = AuditEvent.objects.get(action="case.assign", target_ref=case.reference)
    assert event.actor == cover and event.details["on_behalf_of"] == lead.pk


def test_a_cases_delegation_from_a_lead_lends_no_assignment(cover, absent, lead, tax):
    case = CaseFactory(step=TAX, claimed=True, clerk=lead)
    delegate(lead, tax, lead, cover, "cases")
    lent = access(cover, case)
    assert lent.on_behalf_of == lead and not lent.can_assign


def test_a_role_delegation_lends_on_the_departments_cases_only(cover, absent, lead, tax, demo):
    delegate(lead, tax, lead, cover, "role")
    application = ApplicationFactory(routed=True, vehicle=True)
    transport = application.cases.get(step="vehicle")
    assert not access(cover, transport).can_view


# --- When nothing is lent ---------------------------------------------------------------------


def test_nothing_is_lent_before_the_start_or_after_the_end(claimed, cover, absent, lead, tax):
    now = timezone.now()
    delegate(lead, tax, absent, cover, starts=2 * DAY, ends=5 * DAY, now=now)
    assert access(cover, claimed, now=now).on_behalf_of is None
    assert access(cover, claimed, now=now + 2 * DAY - dt.timedelta(seconds=1)).delegated == set()
    assert access(cover, claimed, now=now + 2 * DAY).on_behalf_of == absent
    assert access(cover, claimed, now=now + 5 * DAY - dt.timedelta(seconds=1)).can_act
    assert access(cover, claimed, now=now + 5 * DAY).on_behalf_of is None
    with pytest.raises(CaseError):  # in force from tomorrow: not now
        actions.case_approve(case=claimed, actor=cover)


def test_a_withdrawn_delegation_lends_nothing(claimed, cover, absent, lead, tax):
    made = delegate(lead, tax, absent, cover)
    delegation.delegation_revoke(actor=lead, delegation=made)
    assert Delegation.objects.get(pk=made.pk).revoked_at is not None
    event = AuditEvent.objects.get(action="delegation.revoke")
    assert event.actor == lead and event.details["delegate"] == cover.pk
    assert access(cover, claimed).on_behalf_of is None
    with pytest.raises(CaseError):
        actions.case_approve(case=claimed, actor=cover)


def test_a_delegate_removed_from_the_department_gets_nothing(claimed, cover, absent, lead, tax):
    delegate(lead, tax, absent, cover)
    account_actions.membership_revoke(
        actor=None, membership=Membership.objects.get(user=cover, department=tax)
    )
    got = access(cover, claimed)
    assert not got.can_view and got.on_behalf_of is None
    with pytest.raises(CaseForbidden):
        actions.case_approve(case=claimed, actor=user(cover.email))


def test_a_delegator_who_left_lends_nothing(claimed, cover, absent, lead, tax):
    delegate(lead, tax, lead, cover, "role")
    case = CaseFactory(step=TAX)
    account_actions.membership_revoke(
        actor=None, membership=Membership.objects.get(user=lead, department=tax)
    )
    got = access(cover, case)
    assert got.can_act and not got.can_assign and got.on_behalf_of is None


def test_the_check_stays_cheap(claimed, cover, absent, lead, tax):
    delegate(lead, tax, absent, cover)
    delegate(lead, tax, lead, cover, "role")
    case = fresh(claimed)
    cover.forget_roles()
    with CaptureQueriesContext(connection) as plain:
        permissions.case_access(user=lead, case=case)
    lead.forget_roles()
    with CaptureQueriesContext(connection) as covering:
        got = permissions.case_access(user=cover, case=case)
    assert got.on_behalf_of == absent and got.can_assign
    # The delegations, then every delegator's permissions at once.
    assert len(covering) <= len(plain) + 2


# --- Creating and withdrawing ------------------------------------------------------------------


def _nothing_changed(before: int) -> None:
    assert Delegation.objects.count() == before
    assert not AuditEvent.objects.filter(action="delegation.create").exists()


def test_only_a_lead_of_the_department_delegates(cover, absent, lead, tax):
    for actor in (absent, cover, user("lead.transport@demo.gov"), user("supervisor@demo.gov")):
        with pytest.raises(DelegationForbidden):
            delegate(actor, tax, absent, cover)
    _nothing_changed(0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"delegate": "absent"}, "delegate"),
        ({"delegate": "outsider"}, "delegate"),
        ({"delegator": "outsider"}, "delegator"),
        ({"delegate": None}, "delegate"),
        ({"scope": "everything"}, "scope"),
        ({"starts_at": 2 * DAY, "ends_at": DAY}, "ends_at"),
        ({"starts_at": -3 * DAY, "ends_at": -DAY}, "ends_at"),
        ({"ends_at": 91 * DAY}, "ends_at"),
        ({"starts_at": 400 * DAY, "ends_at": 401 * DAY}, "starts_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"ends_at": dt.datetime(2030, 1, 1)}, "ends_at"),  # naive: no time zone
    ],
)
def test_bad_input_is_refused_and_nothing_changes(change, field, cover, absent, lead, tax):
    now = timezone.now()
    people = {"absent": absent, "outsider": user("clerk.transport@demo.gov"), None: None}
    arguments = {
        "actor": lead,
        "department": tax,
        "delegator": absent,
        "delegate": cover,
        "scope": "cases",
        "starts_at": now,
        "ends_at": now + DAY,
        "now": now,
    }
    for key, value in change.items():
        if key in ("delegate", "delegator"):
            value = people[value]
        elif isinstance(value, dt.timedelta):
            value = now + value
        arguments[key] = value
    with pytest.raises(delegation.InvalidInput) as refused:
        delegation.delegation_create(**arguments)
    assert field in refused.value.errors
    _nothing_changed(0)


def test_the_same_delegation_twice_in_one_period_is_a_conflict(cover, absent, lead, tax):
    delegate(lead, tax, absent, cover)
    with pytest.raises(DelegationError):
        delegate(lead, tax, absent, cover, starts=DAY, ends=3 * DAY)
    assert Delegation.objects.count() == 1


def test_who_withdraws(claimed, cover, absent, lead, tax):
    made = delegate(lead, tax, absent, cover)
    for actor in (cover, user("lead.transport@demo.gov")):
        with pytest.raises(DelegationForbidden):
            delegation.delegation_revoke(actor=actor, delegation=made)
    assert Delegation.objects.get(pk=made.pk).revoked_at is None
    delegation.delegation_revoke(actor=absent, delegation=made)  # back early
    with pytest.raises(DelegationError):
        delegation.delegation_revoke(actor=lead, delegation=made)
    assert AuditEvent.objects.filter(action="delegation.revoke").count() == 1


# --- The API and the page ----------------------------------------------------------------------


def test_api_creates_lists_and_withdraws(cover, absent, lead, tax):
    now = timezone.now()
    body = {
        "department": TAX,
        "delegator": absent.email,
        "delegate": cover.email,
        "scope": "cases",
        "starts_at": now.isoformat(),
        "ends_at": (now + 3 * DAY).isoformat(),
    }
    assert api_for(absent).post("/api/v1/delegations/", body, format="json").status_code == 403
    bad = api_for(lead).post(
        "/api/v1/delegations/", {**body, "delegate": absent.email}, format="json"
    )
    assert bad.status_code == 400 and "delegate" in bad.json()["errors"]
    assert Delegation.objects.count() == 0
    created = api_for(lead).post("/api/v1/delegations/", body, format="json")
    assert created.status_code == 201, created.json()
    made = created.json()
    assert made["state"] == "current" and made["delegate"] == cover.email

    for who, count in ((cover, 1), (absent, 1), (lead, 1), (user("clerk.transport@demo.gov"), 0)):
        assert api_for(who).get("/api/v1/delegations/").json()["count"] == count
    url = f"/api/v1/delegations/{made['id']}/revoke/"
    assert api_for(user("clerk.transport@demo.gov")).post(url).status_code == 404
    assert api_for(cover).post(url).status_code == 403
    assert api_for(lead).post(url).json()["state"] == "revoked"
    assert api_for(lead).post(url).status_code == 409
    assert api_for(lead).post("/api/v1/delegations/99999999999999999999/revoke/").status_code == 404


def test_page_lists_creates_and_withdraws(client, cover, absent, lead, tax):
    client.force_login(absent)
    assert "create-title" not in client.get("/workbench/delegations/").content.decode()
    form = {
        "department": TAX,
        "delegator": absent.email,
        "delegate": cover.email,
        "scope": "cases",
        "starts_at": timezone.localdate().isoformat(),
        "ends_at": (timezone.localdate() + 2 * DAY).isoformat(),
    }
    assert client.post("/workbench/delegations/", form).status_code == 403
    client.force_login(lead)
    page = client.get("/workbench/delegations/").content.decode()
    assert 'id="create-title"' in page and 'for="delegator"' in page
    refused = client.post("/workbench/delegations/", {**form, "ends_at": "not a day"})
    assert refused.status_code == 400 and Delegation.objects.count() == 0
    assert client.post("/workbench/delegations/", form).status_code == 302
    made = Delegation.objects.get()
    local_end = timezone.localtime(made.ends_at)
    assert local_end.date() == timezone.localdate() + 3 * DAY and local_end.hour == 0
    client.force_login(cover)
    page = client.get("/workbench/delegations/").content.decode()
    assert f'data-delegation="{made.pk}"' in page and "/revoke/" not in page
    client.force_login(absent)
    assert client.post(f"/workbench/delegations/{made.pk}/revoke/").status_code == 302
    assert Delegation.objects.get().revoked_at is not None


def test_citizens_do_not_see_the_page(client, demo):
    client.force_login(user("citizen@demo.gov"))
    assert client.get("/workbench/delegations/").status_code == 404


def test_the_audit_pages_and_export_name_the_absent_colleague(
    client, claimed, cover, absent, lead, tax
):
    delegate(lead, tax, absent, cover)
    actions.case_approve(case=claimed, actor=cover)
    client.force_login(user("supervisor@demo.gov"))
    line = f"Wang Fang on behalf of {absent.full_name}"
    search = client.get("/audit/", {"action": "case.approve"}).content.decode()
    assert line in search
    reference = claimed.application.reference
    assert line in client.get(f"/audit/applications/{reference}/").content.decode()
    export = b"".join(client.get("/audit/export.csv", {"action": "case.approve"})).decode()
    header, *rows = export.splitlines()
    assert header.endswith("on_behalf_of_name") and rows[0].endswith(absent.full_name)
    api = api_for("supervisor@demo.gov").get("/api/v1/audit/events/?action=case.approve").json()
    assert api["results"][0]["on_behalf_of"] == absent.email
