"""Reads about users and departments that depend on who is asking."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .constants import MembershipRole
from .models import ApiToken, Department, Membership, User


def departments_active() -> QuerySet[Department]:
    return Department.objects.filter(active=True).order_by("name")


def departments_for_user(
    *, user: User, roles: tuple[str, ...] | None = None
) -> QuerySet[Department]:
    """The active departments whose groups the user is in (all of them, or those where the
    user holds one of `roles`): the groups, kept in step with memberships, decide."""
    if not user.is_authenticated:
        return Department.objects.none()
    groups = user.groups.all()
    if roles is None or MembershipRole.CLERK in roles:
        return departments_active().filter(group__in=groups)
    if MembershipRole.LEAD in roles:
        return departments_active().filter(lead_group__in=groups)
    return Department.objects.none()


def department_roles(*, user: User) -> dict[int, str]:
    """{department id: "lead" or "clerk"} for the active departments whose groups the user is
    in (one query)."""
    if not user.is_authenticated:
        return {}
    roles: dict[int, str] = {}
    groups = user.group_ids
    for pk, leads in (
        Department.objects.filter(active=True)
        .filter(Q(group__in=groups) | Q(lead_group__in=groups))
        .values_list("pk", "lead_group_id")
    ):
        roles[pk] = MembershipRole.LEAD if leads in groups else MembershipRole.CLERK
    return roles


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, department__active=True).select_related(
        "department"
    )


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def tokens_for_owner(*, user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first; another user's token is simply not there."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
