"""Reads about users and departments that depend on who is asking."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .constants import MembershipRole
from .models import ApiToken, Department, Membership, User

# Where `group_ids` keeps a user's groups for the rest of the request.
_GROUPS_CACHE = "_portal_group_ids"


def group_ids(user: User) -> list[int]:
    """The user's groups, cached on the user object (one query per request): every access
    decision reads them (workflows.permissions). `forget_groups` drops the cache; the one place
    that changes the groups (`actions.department_groups_sync`) calls it."""
    cached = getattr(user, _GROUPS_CACHE, None)
    if cached is None:
        cached = list(user.groups.values_list("pk", flat=True))
        setattr(user, _GROUPS_CACHE, cached)
    return cached


def forget_groups(user: User) -> None:
    """Drop the cached groups after a change to them (the same user object reads again)."""
    user.__dict__.pop(_GROUPS_CACHE, None)


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
    groups = set(user.groups.values_list("pk", flat=True))
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
