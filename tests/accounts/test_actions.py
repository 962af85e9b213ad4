"""Department and membership actions: each change has its audit event; bad input changes nothing."""

import pytest
from django.contrib.auth.models import Group

from accounts import actions
from accounts.constants import MembershipRole
from accounts.models import Department, Membership
from audit.models import AuditEvent
from tests.factories import DepartmentFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_department_create_makes_its_group_and_an_audit_event():
    admin = UserFactory(admin=True)
    department = actions.department_create(actor=admin, slug="tax", name="Tax Bureau")
    assert department.group.name == "department:tax"
    event = AuditEvent.objects.get(action="department.create")
    assert (event.actor, event.target_type, event.target_ref) == (
        admin,
        "accounts.department",
        "tax",
    )
    assert event.actor_role == "admin"


def test_duplicate_department_slug_is_refused_and_changes_nothing():
    DepartmentFactory(slug="tax")
    before = (Department.objects.count(), Group.objects.count(), AuditEvent.objects.count())
    with pytest.raises(actions.AccountError, match="already exists"):
        actions.department_create(actor=None, slug="tax", name="Other")
    assert (Department.objects.count(), Group.objects.count(), AuditEvent.objects.count()) == before


def test_membership_grant_adds_the_department_group_and_is_audited_once():
    user, department = UserFactory(), DepartmentFactory()
    actions.membership_grant(
        actor=None, user=user, department=department, role=MembershipRole.CLERK
    )
    actions.membership_grant(
        actor=None, user=user, department=department, role=MembershipRole.CLERK
    )
    assert user.groups.filter(pk=department.group.pk).exists()
    assert AuditEvent.objects.filter(action="membership.grant").count() == 1


def test_membership_role_change_is_recorded_with_the_previous_role():
    membership = MembershipFactory()
    actions.membership_grant(
        actor=None, user=membership.user, department=membership.department, role=MembershipRole.LEAD
    )
    membership.refresh_from_db()
    assert membership.role == MembershipRole.LEAD
    event = AuditEvent.objects.filter(action="membership.grant").last()
    assert event.details == {"user": membership.user.pk, "role": "lead", "previous_role": "clerk"}


def test_membership_grant_refuses_an_unknown_role():
    user, department = UserFactory(), DepartmentFactory()
    with pytest.raises(actions.AccountError):
        actions.membership_grant(actor=None, user=user, department=department, role="king")
    assert not Membership.objects.exists()


def test_membership_revoke_removes_the_group():
    membership = MembershipFactory()
    user, department = membership.user, membership.department
    actions.membership_revoke(actor=None, membership=membership)
    assert not user.groups.filter(pk=department.group.pk).exists()
    assert AuditEvent.objects.filter(action="membership.revoke").count() == 1


def test_token_issue_is_audited_and_new_each_time():
    user = UserFactory()
    first = actions.token_issue(actor=None, user=user)
    second = actions.token_issue(actor=None, user=user)
    assert first.key != second.key
    assert AuditEvent.objects.filter(action="token.issue", subject=user).count() == 2


def test_token_issue_refuses_an_inactive_user():
    user = UserFactory(is_active=False)
    with pytest.raises(actions.AccountError):
        actions.token_issue(actor=None, user=user)
