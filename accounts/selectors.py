"""Reads about users and departments that depend on who is asking."""

from __future__ import annotations

from django.db.models import QuerySet

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
