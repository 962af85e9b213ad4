"""Token authentication of the API (the API contract; the submit benchmark): the token
look-up also brings the user's department roles, which must be exactly those the rest of the
portal computes (memberships in active departments), so audit events name the right role."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import actions
from accounts.models import ApiToken, Department
from audit.models import AuditEvent
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def token_client(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + actions.token_issue(actor=None, user=user).key)
    return api


def role_seen(user) -> str:
    response = token_client(user).get("/api/v1/me/")
    assert response.status_code == 200
    return response.json()["role"]


def test_the_role_comes_from_memberships_in_active_departments_only():
    citizen = UserFactory()
    clerk = MembershipFactory().user
    lead = MembershipFactory(lead=True).user
    MembershipFactory(user=lead, department=DepartmentFactory())  # clerk elsewhere: lead wins
    assert (role_seen(citizen), role_seen(clerk), role_seen(lead)) == ("citizen", "clerk", "lead")
    Department.objects.filter(memberships__user=clerk).update(active=False)
    assert role_seen(clerk) == "citizen"


def test_an_inactive_user_or_an_unknown_token_is_refused():
    user = UserFactory()
    api = token_client(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api.get("/api/v1/me/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert api.get("/api/v1/me/").status_code == 401


def test_the_user_groups_and_roles_are_one_query(require_postgres):
    api = token_client(MembershipFactory().user)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/me/").json()["role"] == "clerk"
    first, *others = [q["sql"] for q in queries.captured_queries]
    assert 'FROM "accounts_apitoken"' in first
    assert "accounts_user_groups" in first
    # Neither the roles nor the groups are read again (the membership list of /me is its data).
    assert not any("accounts_user_groups" in sql for sql in others)


def test_an_action_called_with_a_token_records_the_actors_role(catalog):
    clerk = MembershipFactory().user  # staff may apply for themselves too
    response = token_client(clerk).post(
        "/api/v1/applications/", {"services": ["moving-house"], "answers": {}}, format="json"
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(action="application.create", actor=clerk)
    assert event.actor_role == "clerk"


def test_model_wide_permissions_and_departments_come_with_the_token(demo, require_postgres):
    """The token's one query also brings the user's model-wide permissions (their own and their
    groups', as Django's ModelBackend reads them) and the active departments of their groups:
    the inbox reads neither again, and decides with them as a session request would."""
    from django.contrib.auth.models import Group, Permission

    from accounts.models import User
    from tests.factories import CaseFactory
    from workflows.models import Case

    case = CaseFactory()
    view_case = Permission.objects.get(codename="view_case", content_type__app_label="workflows")
    by_user, by_group, plain = UserFactory(), UserFactory(), UserFactory()
    by_user.user_permissions.add(view_case)
    readers = Group.objects.create(name="case readers")
    readers.permissions.add(view_case)
    by_group.groups.add(readers)
    clerk = User.objects.get(email="clerk.tax@demo.gov")
    every = set(Case.objects.values_list("reference", flat=True))
    assert case.reference in every and len(every) > 1
    expected = {by_user: every, by_group: every, plain: set(), clerk: {case.reference}}
    for user, references in expected.items():
        api = token_client(user)
        api.get("/api/v1/cases/")  # warm: the process reads permission ids once
        with CaptureQueriesContext(connection) as queries:
            body = api.get("/api/v1/cases/?status=all").json()
        assert {c["reference"] for c in body["results"]} == references, user
        later = [q["sql"] for q in queries.captured_queries][1:]
        assert not any('"auth_permission"."codename"' in sql for sql in later), later
        assert not any('FROM "accounts_department"' in sql for sql in later), later
    Department.objects.filter(slug="tax").update(active=False)
    assert token_client(clerk).get("/api/v1/cases/?status=all").json()["results"] == []


def test_a_service_accounts_scopes_come_in_the_same_one_query(demo, require_postgres):
    """A service account's token brings its scopes and the account's department and
    responsible official in the token's one query: the case list reads none of them again."""
    from accounts import service_accounts
    from accounts.models import User
    from tests.factories import CaseFactory

    case = CaseFactory()
    account = service_accounts.service_account_create(
        actor=None,
        department=Department.objects.get(slug="tax"),
        label="Tax back office",
        responsible=User.objects.get(email="lead.tax@demo.gov"),
    )
    issued = service_accounts.service_token_issue(
        actor=None, account=account, scopes=["cases:read"], days=7
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    api.get("/api/v1/cases/")  # warm: the process reads permission ids once
    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/cases/?status=all").json()
    assert [c["reference"] for c in body["results"]] == [case.reference]
    first, *others = [q["sql"] for q in queries.captured_queries]
    assert 'FROM "accounts_apitoken"' in first and '"scopes"' in first
    assert not any('FROM "accounts_apitoken"' in sql for sql in others)
    assert not any("accounts_user_groups" in sql for sql in others)
    # A person's token has no scope and keeps the person's own rights.
    clerk_api = token_client(User.objects.get(email="clerk.tax@demo.gov"))
    assert clerk_api.get("/api/v1/me/").status_code == 200
    assert ApiToken.objects.filter(user__email="clerk.tax@demo.gov").get().scopes == []
