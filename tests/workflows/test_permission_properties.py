"""The one authority for case access, held against a slow reference.

For random sequences of membership grants and role changes, revocations, departments
deactivated and reactivated, accounts deactivated, cases closing, and consultations shared
(with a department or one official), revoked, expiring and swept, every selector's answer
equals what a reference computes object by object: guardian's own checker
(`ObjectPermissionChecker`, a fresh one for every check, for users who are not superusers),
plus the consultation's dates and whether the departments are active. The selectors are asked
with the same user objects the operations changed (their cached groups must not go stale).
Real PostgreSQL; the clock is injected (`case_for_user`, which reads the real clock, is held
against the reference at the real time). Delegations lend nothing yet (workflows.delegation)
and are not part of the operations.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from guardian.core import ObjectPermissionChecker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import actions as accounts
from accounts.constants import MembershipRole
from accounts.models import Department, Membership, User
from tests.factories import ApplicationFactory, UserFactory, department_set_active
from workflows import permissions, selectors
from workflows.constants import FINAL_CASE_STATES, CaseStatus
from workflows.models import Case, Consultation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

DEPARTMENTS = ("household-registration", "tax", "transport")
USERS = 4  # staff without a portal-wide role; the world also has one supervisor
CLOSED = (CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CANCELLED)

# --- Operations ---------------------------------------------------------------------------------

user_index = st.integers(0, USERS - 1)
department_index = st.integers(0, len(DEPARTMENTS) - 1)
case_index = st.integers(0, 5)
hours = st.integers(-48, 48)

operations = st.one_of(
    st.tuples(st.just("member"), user_index, department_index, st.sampled_from(["clerk", "lead"])),
    st.tuples(st.just("leave"), user_index, department_index),
    st.tuples(st.just("department_active"), department_index, st.booleans()),
    st.tuples(st.just("user_active"), user_index, st.booleans()),
    st.tuples(st.just("close"), case_index, st.sampled_from(CLOSED)),
    st.tuples(
        st.just("consult"),
        case_index,
        st.one_of(
            st.tuples(st.just("department"), department_index),
            st.tuples(st.just("official"), user_index),
        ),
        st.one_of(st.none(), hours),
    ),
    st.tuples(st.just("revoke"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("clock"), st.integers(1, 72)),
)


class World:
    """The users, departments and cases of one example, read fresh from the database."""

    def __init__(self, user_pks: list[int], supervisor_pk: int, case_pks: list[int]):
        self.users = [User.objects.get(pk=pk) for pk in user_pks]
        self.supervisor = User.objects.get(pk=supervisor_pk)
        self.departments = [
            Department.objects.select_related("group", "lead_group").get(slug=s)
            for s in DEPARTMENTS
        ]
        self.cases = list(Case.objects.filter(pk__in=case_pks).order_by("pk"))
        self.started = timezone.now()
        self.now = self.started

    def apply(self, op: tuple) -> None:
        kind, *args = op
        getattr(self, f"op_{kind}")(*args)
        # A read between operations, as a request would make: it caches each user's groups on
        # the user object, which the next operation must not leave stale.
        for user in self.users:
            permissions.visible_cases(user=user).exists()

    def op_member(self, u: int, d: int, role: str) -> None:
        role = MembershipRole.LEAD if role == "lead" else MembershipRole.CLERK
        accounts.membership_grant(
            actor=None, user=self.users[u], department=self.departments[d], role=role
        )

    def op_leave(self, u: int, d: int) -> None:
        user = self.users[u]
        # Through the user's own related manager, so `membership.user` is this very object.
        membership = user.memberships.filter(department=self.departments[d]).first()
        if membership is not None:
            accounts.membership_revoke(actor=None, membership=membership)

    def op_department_active(self, d: int, active: bool) -> None:
        department_set_active(self.departments[d], active)

    def op_user_active(self, u: int, active: bool) -> None:
        user = self.users[u]
        user.is_active = active
        user.save(update_fields=["is_active"])

    def op_close(self, c: int, status: str) -> None:
        """What a decision or a cancellation does to a case's grants (`actions._transition`,
        routing's `_apply`)."""
        case = self.cases[c % len(self.cases)]
        if case.status in FINAL_CASE_STATES:
            return
        case.status = status
        case.save(update_fields=["status"])
        permissions.revoke_on_close([case])

    def op_consult(self, c: int, consultee: tuple, ends: int | None) -> None:
        case = self.cases[c % len(self.cases)]
        kind, index = consultee
        department = self.departments[index] if kind == "department" else None
        official = self.users[index] if kind == "official" else None
        Consultation.objects.create(
            case=case,
            shared_by=self.supervisor,
            department=department,
            official=official,
            reason="sealed elsewhere",
            fields=list(case.fields)[:1],
            created_at=self.now,
            expires_at=None if ends is None else self.started + dt.timedelta(hours=ends),
        )
        if department is not None:
            permissions.grant(codename=permissions.CONSULT, case=case, group=department.group)
        else:
            permissions.grant(codename=permissions.CONSULT, case=case, user=official)

    def op_revoke(self, n: int, remove_grant: bool) -> None:
        """Revoke a consultation: the row at once; its permission at once or left to the
        sweep (read time must not depend on which)."""
        consultations = list(Consultation.objects.filter(revoked_at__isnull=True).order_by("pk"))
        if not consultations:
            return
        consultation = consultations[n % len(consultations)]
        consultation.revoked_at = self.now
        consultation.save(update_fields=["revoked_at"])
        if remove_grant:
            self._end(consultation)

    def op_sweep(self) -> None:
        """What beat does: end the consultations revoked or past their end at `now`."""
        for consultation in Consultation.objects.filter(ended_at__isnull=True):
            expired = consultation.expires_at is not None and consultation.expires_at <= self.now
            if expired or consultation.revoked_at is not None:
                self._end(consultation)

    def _end(self, consultation: Consultation) -> None:
        consultation.ended_at = self.now
        consultation.save(update_fields=["ended_at"])
        # One grant serves every open consultation of the same consultee on the case.
        still_open = (
            Consultation.objects.filter(
                case=consultation.case_id,
                department=consultation.department_id,
                official=consultation.official_id,
                ended_at__isnull=True,
                revoked_at__isnull=True,
            )
            .exclude(expires_at__lte=self.now)
            .exists()
        )
        if still_open:
            return
        if consultation.department_id is not None:
            group = Department.objects.get(pk=consultation.department_id).group
            permissions.ungrant(codename=permissions.CONSULT, case=consultation.case, group=group)
        else:
            permissions.ungrant(
                codename=permissions.CONSULT, case=consultation.case, user=consultation.official
            )

    def op_clock(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)


# --- The reference: object by object, from guardian's own checker -------------------------------


def reference(user: User, cases: list[Case], at: dt.datetime) -> dict[int, dict[str, bool]]:
    """What `user` may do with each case at `at`, decided without the code under test: a fresh
    guardian checker (its cache filled for these cases), the consultations' rows and dates, and
    whether the departments are active; a closed case's consultations give nothing."""
    fresh = User.objects.get(pk=user.pk)  # no cached groups or permissions
    checker = ObjectPermissionChecker(fresh)  # an inactive user holds nothing
    checker.prefetch_perms(cases)
    active = dict(Department.objects.values_list("pk", "active"))
    groups = set(fresh.groups.values_list("pk", flat=True))
    consultations = list(Consultation.objects.select_related("department"))
    statuses = dict(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("pk", "status"))

    def open_for_user(c: Consultation) -> bool:
        if c.ended_at is not None or c.revoked_at is not None:
            return False
        if c.expires_at is not None and c.expires_at <= at:
            return False
        if c.official_id is not None:
            return c.official_id == fresh.pk
        return c.department.active and c.department.group_id in groups

    portal_wide = fresh.is_active and fresh.has_perm("workflows.view_case")  # model-wide
    decisions = {}
    for case in cases:
        department_active = active[case.department_id]
        view = checker.has_perm("view_case", case) and department_active
        consult = (
            checker.has_perm("consult_case", case)
            and statuses[case.pk] not in FINAL_CASE_STATES
            and any(open_for_user(c) for c in consultations if c.case_id == case.pk)
        )
        decisions[case.pk] = {
            "consult": consult,
            "visible": view or portal_wide,
            "can_view": view or consult or portal_wide,
            "can_act": checker.has_perm("change_case", case) and department_active,
            "can_assign": checker.has_perm("assign_case", case) and department_active,
        }
    return decisions


def check(world: World) -> None:
    """Every selector, for every user, against the reference."""
    ids = {c.pk for c in world.cases}
    for user in [*world.users, world.supervisor]:
        expected = reference(user, world.cases, world.now)
        # case_for_user reads the real clock: the reference at that time too.
        real_now = timezone.now()
        expected_now = reference(user, world.cases, real_now)

        def pks(queryset) -> set[int]:
            return set(queryset.filter(pk__in=ids).values_list("pk", flat=True))

        visible = pks(permissions.visible_cases(user=user))
        assert visible == {pk for pk, r in expected.items() if r["visible"]}, user
        inbox = selectors.inbox(user=user, filters=selectors.InboxFilters(), now=world.now)
        assert pks(inbox) == visible, user
        consulted = pks(permissions.consulted_cases(user=user, now=world.now))
        assert consulted == {pk for pk, r in expected.items() if r["consult"]}, user
        for case in world.cases:
            access = permissions.case_access(user=user, case=case, now=world.now)
            got = {
                "can_view": access.can_view,
                "can_act": access.can_act,
                "can_assign": access.can_assign,
            }
            assert got == {k: expected[case.pk][k] for k in got}, (user, case.reference, access)
            found = selectors.case_for_user(user=user, reference=case.reference)
            want = expected_now[case.pk]["can_view"]
            assert (found is not None) == want, (user, case.reference, "case_for_user")


@pytest.fixture
def world(demo):
    """Two routed moving-house applications with vehicles (six cases, three departments),
    four members of staff with no role yet and a supervisor; (user pks, supervisor pk, cases)."""
    applications = [ApplicationFactory(routed=True, vehicle=True) for _ in range(2)]
    cases = Case.objects.filter(application__in=applications).order_by("pk")
    assert {c.department.slug for c in cases} == set(DEPARTMENTS)
    staff = [UserFactory(totp=False).pk for _ in range(USERS)]
    supervisor = UserFactory(supervisor=True, totp=False).pk
    return staff, supervisor, [c.pk for c in cases]


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations, max_size=14))
def test_every_selector_agrees_with_the_reference(world, ops):
    with transaction.atomic():
        w = World(*world)
        for op in ops:
            w.apply(op)
        check(w)
        transaction.set_rollback(True)


def _tax_lead_and_case(world):
    """A member of staff of the world made a lead of the tax office: (user, tax, a tax case)."""
    staff, _supervisor, case_pks = world
    user = User.objects.get(pk=staff[0])
    tax = Department.objects.get(slug="tax")
    accounts.membership_grant(actor=None, user=user, department=tax, role=MembershipRole.LEAD)
    case = Case.objects.filter(pk__in=case_pks, department=tax).order_by("pk").first()
    return user, tax, case


def test_leaving_a_department_removes_access_at_once_on_the_same_user_object(world):
    user, tax, case = _tax_lead_and_case(world)
    # The same object reads, caching its groups, and then loses its membership.
    assert permissions.visible_cases(user=user).filter(pk=case.pk).exists()
    assert permissions.case_access(user=user, case=case).can_assign
    accounts.membership_grant(actor=None, user=user, department=tax, role=MembershipRole.CLERK)
    access = permissions.case_access(user=user, case=case)
    assert access.can_act and not access.can_assign
    membership = user.memberships.get(department=tax)
    assert membership.user is user
    accounts.membership_revoke(actor=None, membership=membership)
    assert not permissions.visible_cases(user=user).exists()
    assert not permissions.case_access(user=user, case=case).can_view
    assert selectors.case_for_user(user=user, reference=case.reference) is None
    assert not Membership.objects.filter(user=user).exists()


def test_a_deactivated_department_reads_nothing(world):
    user, tax, case = _tax_lead_and_case(world)
    assert selectors.case_for_user(user=user, reference=case.reference) is not None
    department_set_active(tax, False)
    assert not permissions.visible_cases(user=user).exists()
    access = permissions.case_access(user=user, case=case)
    assert not (access.can_view or access.can_act or access.can_assign)
    assert selectors.case_for_user(user=user, reference=case.reference) is None
