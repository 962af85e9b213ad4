"""Navigation per role for the base layout."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .constants import Role


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    role = Role.CITIZEN
    if user is not None and user.is_authenticated:
        role = Role(user.primary_role)
        items.append((reverse("home"), _("Home")))
        items.append((reverse("services:catalog"), _("Services")))
        if role == Role.CITIZEN:
            items.append((reverse("services:profile"), _("Profile")))
            items.append((reverse("audit:data-access"), _("Who looked at my data")))
        if role in (Role.SUPERVISOR, Role.ADMIN, Role.LEAD):
            items.append((reverse("oversight:dashboard"), _("Dashboard")))
        if role in (Role.SUPERVISOR, Role.ADMIN):
            items.append((reverse("audit:search"), _("Audit log")))
        if role in (Role.ADMIN, Role.LEAD):
            items.append((reverse("service-accounts"), _("Service accounts")))
            items.append((reverse("integrations:webhooks"), _("Webhooks")))
        items.append((reverse("account_email"), _("Account")))
        items.append((reverse("mfa_index"), _("Two-factor authentication")))
        items.append((reverse("tokens"), _("API tokens")))
        if role == Role.ADMIN:
            items.append((reverse("admin:index"), _("Administration")))
        if role != Role.CITIZEN:
            items.insert(1, (reverse("workflows:inbox"), _("Workbench")))
            items.append((reverse("api-docs"), _("API documentation")))
    else:
        items.append((reverse("home"), _("Home")))
        items.append((reverse("services:catalog"), _("Services")))
    return {
        "nav_items": items,
        "nav_role": role,
        "nav_role_label": Role(role).label,
    }
