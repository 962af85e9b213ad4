"""Reads about users and departments that depend on who is asking."""

from __future__ import annotations

from django.db.models import QuerySet

from .constants import MembershipRole, StaffRole
from .models import ApiToken, Department, Membership, User


def departments_active() -> QuerySet[Department]:
    return Department.objects.filter(active=True).order_by("name")


def departments_for_user(*, user: User) -> QuerySet[Department]:
    """The active departments whose groups the user is in: the groups, kept in step with
    memberships, decide."""
    if not user.is_authenticated:
        return Department.objects.none()
    return departments_active().filter(group__in=user.groups.all())


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, department__active=True).select_related(
        "department"
    )


def user_by_email(*, email: str, active: bool = False) -> User | None:
    """The user with this email address, in any case (`active`: only an active account)."""
    users = User.objects.filter(email__iexact=email.strip())
    return (users.filter(is_active=True) if active else users).first()


def tokens_for_owner(*, user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first; another user's token is simply not there."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


# --- Service accounts: who manages them, and theirs ----------------------------------------


def is_admin(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.staff_role == StaffRole.ADMIN)
    )


def managed_department_ids(user: User) -> set[int] | None:
    """The departments whose service accounts `user` manages: None for "all" (an
    administrator), else the active departments they lead (empty: none)."""
    if not user.is_authenticated or not user.is_active or user.is_service_account:
        return set()
    if is_admin(user):
        return None
    return {pk for pk, role in user.department_roles.items() if role == MembershipRole.LEAD}


def may_manage(user: User, department: Department | None = None) -> bool:
    """Whether `user` manages service accounts at all, or `department`'s."""
    ids = managed_department_ids(user)
    if ids is None:
        return True
    return bool(ids) if department is None else department.pk in ids


def service_accounts_for(*, user: User) -> QuerySet[User]:
    """The service accounts `user` manages, newest first (none for everyone else)."""
    accounts = User.objects.filter(service_department__isnull=False).select_related(
        "service_department", "service_responsible", "service_created_by"
    )
    ids = managed_department_ids(user)
    if ids is not None:
        accounts = accounts.filter(service_department_id__in=ids)
    return accounts.order_by("-date_joined", "-id")


def departments_managed(*, user: User) -> QuerySet[Department]:
    """The active departments whose service accounts and webhooks `user` manages, by name."""
    departments = departments_active()
    ids = managed_department_ids(user)
    return departments if ids is None else departments.filter(pk__in=ids)


def responsible_candidates(*, department: Department) -> QuerySet[User]:
    """Who may answer for a department's service account: its active members, people only."""
    return (
        User.objects.filter(
            is_active=True, service_department__isnull=True, groups=department.group
        )
        .order_by("full_name", "email")
        .distinct()
    )


def service_tokens(*, account: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=account).order_by("-created_at", "-id")
