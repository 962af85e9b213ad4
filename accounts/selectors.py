"""Reads about users and departments that depend on who is asking."""

from __future__ import annotations

from django.db.models import QuerySet

from .constants import MembershipRole
from .models import ApiToken, Department, Membership, User


def departments_active() -> QuerySet[Department]:
    return Department.objects.filter(active=True).order_by("name")


def departments_for_user(
    *, user: User, roles: tuple[str, ...] | None = None
) -> QuerySet[Department]:
    """The active departments in which the user holds a role (all roles by default)."""
    if not user.is_authenticated:
        return Department.objects.none()
    memberships = Membership.objects.filter(user=user)
    if roles:
        memberships = memberships.filter(role__in=roles)
    return departments_active().filter(pk__in=memberships.values("department_id"))


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, department__active=True).select_related(
        "department"
    )


def user_is_lead_of(*, user: User, department: Department) -> bool:
    return Membership.objects.filter(
        user=user, department=department, role=MembershipRole.LEAD
    ).exists()


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


def department_members(*, department_id: int) -> QuerySet[User]:
    """The active staff of one department (whom a lead can assign a case to)."""
    return User.objects.filter(memberships__department_id=department_id, is_active=True).order_by(
        "email"
    )


def tokens_for_owner(*, user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first; another user's token is simply not there."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
