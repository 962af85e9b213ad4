"""Staff must use two-factor authentication (TOTP); citizens need not; tokens are exempt."""

import pytest
from rest_framework.test import APIClient

from accounts import actions
from tests.factories import TOTP_SECRET, MembershipFactory, UserFactory
from tests.support import totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_without_mfa():
    user = UserFactory()
    from tests.factories import DepartmentFactory

    actions.membership_grant(actor=None, user=user, department=DepartmentFactory(), role="clerk")
    return user


def test_staff_without_mfa_are_sent_to_set_it_up(client, clerk_without_mfa):
    client.force_login(clerk_without_mfa)
    for path in ("/", "/workbench/", "/services/", "/admin/"):
        response = client.get(path)
        assert (
            response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"
        ), path
    # The set-up page itself is reachable (allauth first asks for the password again).
    setup = client.get("/accounts/2fa/totp/activate/")
    assert setup.status_code == 200 or setup["Location"].startswith("/accounts/reauthenticate/")


def test_session_api_calls_of_staff_without_mfa_are_refused(client, clerk_without_mfa):
    client.force_login(clerk_without_mfa)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


def test_token_calls_are_exempt(clerk_without_mfa):
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION="Token " + actions.token_issue(actor=None, user=clerk_without_mfa).key
    )
    assert api.get("/api/v1/cases/").status_code == 200


def test_staff_with_mfa_and_citizens_pass(client):
    client.force_login(UserFactory())
    assert client.get("/").status_code == 200
    client.force_login(MembershipFactory().user)
    assert client.get("/workbench/").status_code == 200


def test_staff_sign_in_asks_for_the_code(client):
    from django.core.cache import cache

    from tests.factories import PASSWORD

    cache.clear()  # allauth remembers used codes per user id
    clerk = MembershipFactory().user

    response = client.post("/accounts/login/", {"login": clerk.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/workbench/").status_code == 302  # not signed in until the code is given
    code = totp_code(TOTP_SECRET)
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert client.get("/workbench/").status_code == 200
