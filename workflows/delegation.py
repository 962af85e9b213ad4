"""Delegation: a lead lets one member of a department cover for an absent colleague.

While a delegation is in force (`starts_at <= now < ends_at`, not revoked), its delegate holds,
on the department's cases, what the absent member (the delegator) holds there themselves:

- scope `cases`: reading and acting on the cases assigned to the delegator;
- scope `role`: everything the delegator holds on any of the department's cases (a clerk who
  covers for a lead may assign them).

Lent permissions are never consultation permissions. The delegate must still read the case in
their own name (still a member); a delegator who has left the department lends nothing (their
permissions came from its groups). The delegate acts under their own identity, and the actions
record the delegator as `on_behalf_of` (workflows.actions._as).

Writes: `delegation_create` (a lead of the department) and `delegation_revoke` (a lead or the
delegator), each with its audit event. Reads: `delegations_visible` (to and from the user, and
all of the departments they lead), `covered` (the inbox's "cases I cover" filter).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, User
from audit.actions import audit_record
from audit.constants import AuditAction
from core.errors import InvalidInput, PortalError, WrongState

from . import permissions
from .models import (
    Case,
    Delegation,
    DelegationScope,
)

# The longest a delegation may last, and how far ahead it may start.
MAX_PERIOD = dt.timedelta(days=90)
MAX_AHEAD = dt.timedelta(days=365)
# What a `cases` delegation lends on the delegator's assigned cases: reading and acting.
CASES_LEND = frozenset({permissions.VIEW, permissions.ACT})


class DelegationForbidden(PortalError):
    """The actor may not create or withdraw this delegation (403)."""

    status = 403


class DelegationError(WrongState):
    """The delegation's state does not allow this (409): already withdrawn, already over, or
    the same delegation already covers part of the period."""


def in_force(now: dt.datetime) -> Q:
    """Delegations that lend at `now`."""
    return Q(starts_at__lte=now, ends_at__gt=now, revoked_at__isnull=True)


# --- The lending (workflows.permissions.case_access ends here) ---------------------------------


def with_delegations(
    access: permissions.CaseAccess, *, user: User, case: Case, now: dt.datetime
) -> permissions.CaseAccess:
    """`access` with what the delegations in force lend the user on this case: the union of
    the permissions, `on_behalf_of` the delegator (the one whose case it is, else the first
    that lends something the user lacks), `delegated` the lent codenames. Unchanged when no
    delegation lends anything here. One query for the delegations, one more when there are."""
    if permissions.VIEW not in access.perms:  # not (or no longer) a member: nothing is lent
        return access
    scopes = Q(scope=DelegationScope.ROLE)
    if case.assignee_id is not None and case.assignee_id != user.pk:
        scopes |= Q(scope=DelegationScope.CASES, delegator_id=case.assignee_id)
    delegations = list(
        Delegation.objects.filter(in_force(now), scopes)
        .filter(delegate_id=user.pk, department_id=case.department_id)
        .select_related("delegator")
        .order_by("starts_at", "id")
    )
    if not delegations:
        return access
    # Nobody acts on their own application, nor through someone covering for them.
    applicant = case.application.citizen_id
    delegations = [d for d in delegations if d.delegator_id != applicant]
    held = permissions.granted_to(users=[d.delegator for d in delegations], case=case)
    lent: set[str] = set()
    behalf: User | None = None
    for delegation in delegations:
        theirs = held.get(delegation.delegator_id, frozenset()) - {permissions.CONSULT}
        if delegation.scope == DelegationScope.CASES:
            theirs &= CASES_LEND
        theirs_case = case.assignee_id == delegation.delegator_id
        if not theirs or not (theirs - access.perms or theirs_case):
            continue
        lent |= theirs
        if behalf is None or (theirs_case and case.assignee_id != behalf.pk):
            behalf = delegation.delegator
    if behalf is None:
        return access
    perms = access.perms | lent
    role = permissions.role_for(perms, default=access.department_role)
    return replace(
        access,
        perms=frozenset(perms),
        on_behalf_of=behalf,
        delegated=frozenset(lent),
        department_role=role,
    )


# --- Reads -------------------------------------------------------------------------------------


def is_lead(user: User, department: Department) -> bool:
    """The user is in the department's leads' group (the group that holds `assign_case` on its
    cases), and the department is active."""
    return bool(
        user.is_authenticated
        and user.is_active
        and department.active
        and department.lead_group_id is not None
        and user.groups.filter(pk=department.lead_group_id).exists()
    )


def is_member(user: User | None, department: Department) -> bool:
    """An active person in the department's group (clerks and leads); a service account (a
    department's system) neither covers for anyone nor is covered for."""
    return bool(
        user is not None
        and user.is_active
        and not user.is_service_account
        and user.groups.filter(pk=department.group_id).exists()
    )


def led_departments(*, user: User) -> QuerySet[Department]:
    """The active departments whose leads' group the user is in."""
    if not user.is_authenticated or not user.is_active:
        return Department.objects.none()
    return Department.objects.filter(
        active=True, lead_group__isnull=False, lead_group__user=user
    ).order_by("name")


def delegations_visible(*, user: User) -> QuerySet[Delegation]:
    """The delegations the user may see: those from and to them, and every delegation of the
    departments they lead. Newest start first."""
    if not user.is_authenticated or not user.is_active:
        return Delegation.objects.none()
    led = led_departments(user=user).values("pk")
    return (
        Delegation.objects.filter(Q(delegator=user) | Q(delegate=user) | Q(department__in=led))
        .select_related("department", "delegator", "delegate", "created_by")
        .order_by("-starts_at", "-id")
    )


def delegation_for_user(*, user: User, pk: Any) -> Delegation | None:
    """One delegation the user may see, by its id (anything else, a bad id: None)."""
    if isinstance(pk, str):
        pk = int(pk) if pk.isascii() and pk.isdigit() and len(pk) <= 18 else None
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
        return None
    return delegations_visible(user=user).filter(pk=pk).first()


def state(delegation: Delegation, now: dt.datetime) -> str:
    """The delegation at `now`: "current", "future", "revoked" or "past"."""
    if delegation.revoked_at is not None:
        return "revoked"
    if delegation.ends_at <= now:
        return "past"
    return "future" if delegation.starts_at > now else "current"


def covering(*, user: User, now: dt.datetime | None = None) -> list[Delegation]:
    """The delegations in force to the user (whom they cover for, where, until when)."""
    if not user.is_authenticated or not user.is_active:
        return []
    now = now or timezone.now()
    return list(
        Delegation.objects.filter(in_force(now), delegate=user, department__active=True)
        .select_related("delegator", "department")
        .order_by("ends_at", "id")
    )


def covered(*, user: User, now: dt.datetime | None = None) -> Q:
    """The inbox's "cases I cover" filter: the cases assigned to the people the user covers
    for, in the department of each delegation in force (a filter on the case's department and
    assignee, so the inbox keeps its index-ordered pages). Matches nothing without one."""
    pairs = {(d.department_id, d.delegator_id) for d in covering(user=user, now=now)}
    if not pairs:
        return Q(pk__in=[])
    condition = Q()
    for department_id, delegator_id in sorted(pairs):
        condition |= Q(department_id=department_id, assignee_id=delegator_id)
    return condition


# --- Writes ------------------------------------------------------------------------------------


def _aware(value: Any) -> bool:
    return isinstance(value, dt.datetime) and timezone.is_aware(value)


@transaction.atomic
def delegation_create(
    *,
    actor: User,
    department: Department,
    delegator: User | None,
    delegate: User | None,
    scope: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> Delegation:
    """A lead of the department lets `delegate` cover for `delegator` (both current members,
    two people) from `starts_at` (within `MAX_AHEAD`) until `ends_at` (in the future, at most
    `MAX_PERIOD` later): their assigned cases (`cases`) or their whole role (`role`). Audited."""
    now = now or timezone.now()
    if not is_lead(actor, department):
        raise DelegationForbidden(_("Only a lead of the department can delegate its work."))
    errors: dict[str, list[str]] = {}
    if not is_member(delegator, department):
        errors["delegator"] = [_("Choose a member of the department.")]
    if not is_member(delegate, department):
        errors["delegate"] = [_("Choose a member of the department.")]
    elif delegator is not None and delegate is not None and delegate.pk == delegator.pk:
        errors["delegate"] = [_("Choose someone other than the absent member.")]
    if scope not in DelegationScope.values:
        errors["scope"] = [_("Choose what is delegated.")]
    if not _aware(starts_at):
        errors["starts_at"] = [_("Give the start of the delegation.")]
    elif starts_at > now + MAX_AHEAD:
        errors["starts_at"] = [_("A delegation starts within a year.")]
    if not _aware(ends_at):
        errors["ends_at"] = [_("Give the end of the delegation.")]
    elif _aware(starts_at):
        if ends_at <= starts_at:
            errors["ends_at"] = [_("The end must come after the start.")]
        elif ends_at <= now:
            errors["ends_at"] = [_("The end must be in the future.")]
        elif ends_at - starts_at > MAX_PERIOD:
            errors["ends_at"] = [
                _("A delegation lasts at most %(days)s days.") % {"days": MAX_PERIOD.days}
            ]
    if errors:
        raise InvalidInput(_("The delegation was not created."), errors=errors)
    assert delegator is not None and delegate is not None  # checked above
    same = {"department": department, "delegator": delegator, "delegate": delegate, "scope": scope}
    overlapping = Delegation.objects.filter(
        **same, revoked_at__isnull=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if overlapping.exists():
        raise DelegationError(_("The same delegation already covers part of this period."))
    delegation = Delegation.objects.create(
        **same,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
        created_at=now,
    )
    audit_record(
        action=AuditAction.DELEGATION_CREATE,
        actor=actor,
        role="lead",
        target=delegation,
        department=department,
        details={
            "department": department.slug,
            "delegator": delegator.pk,
            "delegate": delegate.pk,
            "scope": scope,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },
    )
    return delegation


@transaction.atomic
def delegation_revoke(
    *, actor: User, delegation: Delegation, now: dt.datetime | None = None
) -> Delegation:
    """Withdraw a delegation that is in force or still to come: a lead of its department, or
    the delegator (back early). Audited."""
    now = now or timezone.now()
    delegation = (
        Delegation.objects.select_for_update(of=("self",))
        .select_related("department")
        .get(pk=delegation.pk)
    )
    lead = is_lead(actor, delegation.department)
    if not lead and not (actor.is_authenticated and actor.pk == delegation.delegator_id):
        raise DelegationForbidden(
            _("Only a lead of the department or the absent member can withdraw a delegation.")
        )
    if delegation.revoked_at is not None:
        raise DelegationError(_("This delegation was already withdrawn."))
    if delegation.ends_at <= now:
        raise DelegationError(_("This delegation is already over."))
    delegation.revoked_at = now
    delegation.save(update_fields=["revoked_at"])
    audit_record(
        action=AuditAction.DELEGATION_REVOKE,
        actor=actor,
        role="lead" if lead else None,
        target=delegation,
        department=delegation.department,
        details={
            "department": delegation.department.slug,
            "delegator": delegation.delegator_id,
            "delegate": delegation.delegate_id,
            "scope": delegation.scope,
            "starts_at": delegation.starts_at.isoformat(),
            "ends_at": delegation.ends_at.isoformat(),
        },
    )
    return delegation
