"""Users log in by email; the role shown and used for navigation follows flags and memberships."""

import pytest

from accounts.constants import Role
from accounts.models import User
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_is_normalised():
    user = User.objects.create_user(email="Ana@Example.ORG", password="x" * 12)
    assert user.email == "ana@example.org"
    assert User.objects.get_by_natural_key("ANA@example.org") == user


def test_create_user_requires_an_email():
    with pytest.raises(ValueError):
        User.objects.create_user(email="", password="x")


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: UserFactory(), Role.CITIZEN),
        (lambda: MembershipFactory().user, Role.CLERK),
        (lambda: MembershipFactory(lead=True).user, Role.LEAD),
        (lambda: UserFactory(supervisor=True), Role.SUPERVISOR),
        (lambda: UserFactory(admin=True), Role.ADMIN),
    ],
)
def test_primary_role(build, expected):
    user = User.objects.get(pk=build().pk)
    assert user.primary_role == expected
    assert user.is_portal_staff is (expected != Role.CITIZEN)


def test_membership_of_an_inactive_department_gives_no_role():
    membership = MembershipFactory()
    department = membership.department
    department.active = False
    department.save(update_fields=["active"])
    assert User.objects.get(pk=membership.user.pk).primary_role == Role.CITIZEN
