"""The base layout: who is signed in and in which role, navigation per role, accessible forms."""

import pytest

from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_home_offers_sign_up_and_sign_in(client):
    body = client.get("/").content.decode()
    assert 'href="/accounts/signup/"' in body and 'href="/accounts/login/"' in body
    assert 'name="viewport"' in body


@pytest.mark.parametrize(
    ("build", "role_label", "admin_link"),
    [
        (lambda: UserFactory(), "Citizen", False),
        (lambda: MembershipFactory().user, "Clerk", False),
        (lambda: MembershipFactory(lead=True).user, "Department lead", False),
        (lambda: UserFactory(supervisor=True), "Supervisor", False),
        (lambda: UserFactory(admin=True), "Administrator", True),
    ],
)
def test_header_shows_user_and_role_and_nav_fits_the_role(client, build, role_label, admin_link):
    user = build()
    client.force_login(user)
    body = client.get("/").content.decode()
    assert user.email in body
    assert f">{role_label}</span>" in body
    assert ('href="/admin/"' in body) is admin_link


def test_staff_home_lists_the_departments(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    assert membership.department.name in client.get("/").content.decode()


def test_signup_errors_come_with_a_summary_linked_to_the_fields(client):
    response = client.post(
        "/accounts/signup/", {"email": "not-an-email", "password1": "abc", "password2": "abd"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary" role="alert"' in body
    assert 'href="#id_email"' in body
    assert '<label for="id_email">' in body


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Go to the home page" in response.content.decode()


def test_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_admin_sign_in_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_citizen_cannot_use_the_admin(client):
    client.force_login(UserFactory())
    assert client.get("/admin/login/").status_code == 403
    assert client.get("/admin/").status_code == 302  # back to the admin login, which refuses


def test_admin_reaches_the_admin(client):
    client.force_login(UserFactory(admin=True))
    assert client.get("/admin/").status_code == 200


def test_admin_changes_to_users_are_audited(client):
    from audit.models import AuditEvent

    admin_user = UserFactory(admin=True)
    target = UserFactory()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "email": target.email,
            "full_name": "Renamed Person",
            "staff_role": "",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.update", target_ref=str(target.pk))
    assert event.actor == admin_user and "full_name" in event.details["fields"]
    assert "Renamed Person" not in str(event.details)
