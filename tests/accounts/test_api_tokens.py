"""API credentials at rest and their lifetime: the database holds only digests of keys; tokens
expire; they die on a password change, on "revoke all" and when a staff role is lost; owners
list and revoke their own tokens (page and API), never someone else's; issue and revocation are
audited; the admin never shows a key or its digest."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import actions
from accounts.models import ApiToken
from audit.models import AuditEvent
from tests.factories import (
    PASSWORD,
    DepartmentFactory,
    MembershipFactory,
    UserFactory,
    department_set_active,
)

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a different horse battery"


def api_with(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def works(key: str) -> bool:
    status = api_with(key).get("/api/v1/me/").status_code
    assert status in (200, 401), status
    return status == 200


def issue(user, **options) -> str:
    return actions.token_issue(actor=None, user=user, **options).key


def raw_token_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        return cursor.fetchall()


# --- At rest ------------------------------------------------------------------------------------


def test_the_database_row_holds_no_usable_key():
    user = UserFactory()
    key = issue(user)
    assert works(key)
    (row,) = raw_token_rows()
    stored = [str(value) for value in row]
    assert not any(key in value for value in stored)
    # Whatever an attacker reads from the row, presented as a key, is refused.
    for value in stored:
        assert not works(value)
    assert "authtoken_token" not in connection.introspection.table_names()


def test_a_token_shown_to_the_owner_is_only_its_prefix(client):
    user = UserFactory()
    key = issue(user, label="tax script")
    client.force_login(user)
    page = client.get("/me/tokens/").content.decode()
    token = ApiToken.objects.get()
    assert token.prefix in page and "tax script" in page
    assert key not in page and token.digest not in page
    listed = api_with(key).get("/api/v1/me/tokens/").json()["results"]
    assert [t["prefix"] for t in listed] == [token.prefix]
    assert listed[0]["current"] is True
    assert key not in str(listed) and token.digest not in str(listed)


def test_the_old_clear_token_table_is_emptied_and_dropped(require_postgres):
    """The data migration: DRF's table of clear keys does not survive."""
    migration = importlib.import_module(
        "accounts.migrations.0003_drop_clear_tokens_encrypt_mfa_secrets"
    )
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "authtoken_token" ("key" varchar(40) PRIMARY KEY)')
        cursor.execute('INSERT INTO "authtoken_token" VALUES (%s)', ["a" * 40])
    with connection.schema_editor(atomic=False) as editor:
        migration.drop_clear_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()


# --- Lifetime -----------------------------------------------------------------------------------


def test_a_token_expires(settings):
    settings.API_TOKEN_LIFETIME_DAYS = 30
    user = UserFactory()
    key = issue(user)
    token = ApiToken.objects.get()
    assert token.expires_at - token.created_at == timedelta(days=30)
    assert works(key)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_with(key).get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_lifetime_must_be_positive():
    with pytest.raises(actions.AccountError):
        actions.token_issue(actor=None, user=UserFactory(), lifetime=timedelta(0))
    assert not ApiToken.objects.exists()


def test_a_password_change_through_allauth_kills_every_token(client):
    user = UserFactory()
    keys = [issue(user), issue(user)]
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not any(works(key) for key in keys)
    event = AuditEvent.objects.get(action="token.revoke", subject=user)
    assert event.details["reason"] == "password_changed" and event.actor == user


def test_a_password_reset_by_an_administrator_kills_the_tokens(client):
    admin, user = UserFactory(admin=True), UserFactory()
    key = issue(user)
    client.force_login(admin)
    response = client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not works(key)
    assert AuditEvent.objects.get(action="token.revoke", subject=user).actor == admin


def test_user_set_password_kills_the_tokens():
    user = UserFactory()
    key = issue(user)
    actions.user_set_password(actor=None, user=user, password=NEW_PASSWORD)
    assert not works(key)


def test_revoke_all_from_the_page_and_the_api(client):
    user = UserFactory()
    first, second = issue(user), issue(user)
    client.force_login(user)
    assert client.post("/me/tokens/revoke-all/").status_code == 302
    assert not works(first) and not works(second)
    third, fourth = issue(user), issue(user)
    response = api_with(third).delete("/api/v1/me/tokens/")
    assert response.status_code == 200 and response.json() == {"revoked": 2}
    assert not works(third) and not works(fourth)


def test_losing_a_membership_kills_the_tokens():
    membership = MembershipFactory()
    key = issue(membership.user)
    assert works(key)
    actions.membership_revoke(actor=None, membership=membership)
    assert not works(key)
    event = AuditEvent.objects.get(action="token.revoke", subject=membership.user)
    assert event.details["reason"] == "role_lost"


def test_a_lead_made_clerk_or_a_department_closed_kills_the_tokens():
    membership = MembershipFactory(lead=True)
    key = issue(membership.user)
    actions.membership_grant(
        actor=None, user=membership.user, department=membership.department, role="clerk"
    )
    assert not works(key)
    key = issue(membership.user)
    department_set_active(membership.department, False)
    assert not works(key)


def test_a_clerk_given_another_department_keeps_the_token():
    membership = MembershipFactory()
    key = issue(membership.user)
    actions.membership_grant(
        actor=None, user=membership.user, department=DepartmentFactory(), role="clerk"
    )
    assert works(key)


def test_losing_the_staff_role_in_the_admin_kills_the_tokens(client):
    admin, supervisor = UserFactory(admin=True), UserFactory(supervisor=True)
    key = issue(supervisor)
    assert api_with(key).get("/api/v1/me/").json()["role"] == "supervisor"
    client.force_login(admin)
    form = {
        "email": supervisor.email,
        "full_name": supervisor.full_name,
        "staff_role": "",
        "is_active": "on",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/accounts/user/{supervisor.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    supervisor.refresh_from_db()
    assert supervisor.staff_role == ""
    assert not works(key)


# --- Owners revoke their own tokens, never someone else's --------------------------------------


def test_the_owner_revokes_one_token_on_the_page(client):
    user = UserFactory()
    kept, revoked = issue(user), issue(user)
    token = ApiToken.objects.get(prefix=revoked[:8])
    client.force_login(user)
    response = client.post(f"/me/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/me/tokens/"
    assert works(kept) and not works(revoked)
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.actor == user and event.details["token"] == token.pk


def test_another_users_token_cannot_be_revoked_or_seen(client):
    owner, attacker = UserFactory(), UserFactory()
    key = issue(owner)
    attacker_key = issue(attacker)
    token = ApiToken.objects.get(user=owner)
    client.force_login(attacker)
    assert client.post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    assert token.prefix not in client.get("/me/tokens/").content.decode()
    attacker_api = api_with(attacker_key)
    assert attacker_api.delete(f"/api/v1/me/tokens/{token.pk}/").status_code == 404
    listed = attacker_api.get("/api/v1/me/tokens/").json()["results"]
    assert token.pk not in [t["id"] for t in listed]
    assert works(key)
    assert not AuditEvent.objects.filter(action="token.revoke").exists()


def test_the_owner_revokes_a_token_through_the_api():
    user = UserFactory()
    kept, revoked = issue(user), issue(user)
    token = ApiToken.objects.get(prefix=revoked[:8])
    assert api_with(kept).delete(f"/api/v1/me/tokens/{token.pk}/").status_code == 204
    assert works(kept) and not works(revoked)
    assert api_with(kept).delete(f"/api/v1/me/tokens/{token.pk}/").status_code == 404


def test_revoking_needs_a_post(client):
    user = UserFactory()
    key = issue(user)
    client.force_login(user)
    token = ApiToken.objects.get()
    assert client.get(f"/me/tokens/{token.pk}/revoke/").status_code == 405
    assert client.get("/me/tokens/revoke-all/").status_code == 405
    assert works(key)


def test_the_token_list_is_a_fixed_number_of_queries(django_assert_max_num_queries):
    user = UserFactory()
    key = issue(user)
    for _ in range(5):
        issue(user)
    with django_assert_max_num_queries(3):
        assert len(api_with(key).get("/api/v1/me/tokens/").json()["results"]) == 6


# --- Audit ---------------------------------------------------------------------------------------


def test_issue_and_revoke_are_in_the_audit_log():
    user = UserFactory()
    issue(user)
    token = ApiToken.objects.get()
    actions.token_revoke(actor=user, token=token)
    issued = AuditEvent.objects.get(action="token.issue")
    revoked = AuditEvent.objects.get(action="token.revoke")
    assert issued.subject == user and issued.details["prefix"] == token.prefix
    assert revoked.actor == user and revoked.target_ref == token.audit_ref
    # No event carries the key or the digest.
    assert token.digest not in str(issued.details) + str(revoked.details)


# --- The admin ----------------------------------------------------------------------------------


def test_the_admin_shows_no_key_and_no_digest(client):
    admin, user = UserFactory(admin=True), UserFactory()
    key = issue(user, label="nightly export")
    token = ApiToken.objects.get()
    client.force_login(admin)
    pages = [
        client.get("/admin/accounts/apitoken/"),
        client.get(f"/admin/accounts/apitoken/{token.pk}/change/"),
        client.get(f"/admin/accounts/user/{user.pk}/change/"),
    ]
    for page in pages:
        assert page.status_code == 200
        body = page.content.decode()
        assert key not in body and token.digest not in body
    assert token.prefix in pages[0].content.decode()
    # The token can be revoked there (audited), not edited nor added.
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    response = client.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not works(key)
    assert AuditEvent.objects.get(action="token.revoke").actor == admin


def test_the_schema_describes_the_token_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    listing, one = (
        schema["paths"]["/api/v1/me/tokens/"],
        schema["paths"]["/api/v1/me/tokens/{token_id}/"],
    )
    assert set(listing) >= {"get", "delete"} and "delete" in one
    token_fields = schema["components"]["schemas"]["TokenOutput"]["properties"]
    assert "prefix" in token_fields and "key" not in token_fields and "digest" not in token_fields
