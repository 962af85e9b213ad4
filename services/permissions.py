"""Who may do what with a citizen's application: one checking function (`application_access`)
and the list scope of the applications a representative acts on, read from object permissions
on the application (django-guardian's direct foreign-key table `ApplicationUserObjectPermission`).

- the owner holds everything by owning the application (no rows are written for them);
- a representative holds what the owner granted (`services.actions.representation_grant`):
  `view_application` (read the application, its answers masked, its receipt and letters),
  `act_on_application` (reply to a department's question, upload files for the reply), and,
  only when given, `withdraw_application` and `erase_application`.

Editing a draft and submitting stay with the owner (`ApplicationAccess.is_owner`). Staff do
not reach applications through this check (they read cases: `workflows.permissions`).
docs/permissions.md has the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User

from .models import Application, ApplicationUserObjectPermission

VIEW, ACT = "view_application", "act_on_application"
WITHDRAW, ERASE = "withdraw_application", "erase_application"
# Not a guardian permission: edit a draft, submit it, choose representatives. Only the owner
# holds it (it is never granted).
EDIT = "edit_application"
ALL = frozenset({VIEW, ACT, WITHDRAW, ERASE, EDIT})
# What every representative gets; `WITHDRAW` and `ERASE` only when the owner says so.
REPRESENTATIVE_GRANTS = (VIEW, ACT)


@dataclass(frozen=True)
class ApplicationAccess:
    """What one user may do with one application, and why."""

    perms: frozenset[str] = frozenset()
    is_owner: bool = False

    @property
    def can_view(self) -> bool:
        return VIEW in self.perms

    @property
    def can_act(self) -> bool:
        """Reply to a department's question and upload files for it."""
        return ACT in self.perms

    @property
    def can_withdraw(self) -> bool:
        return WITHDRAW in self.perms

    @property
    def can_erase(self) -> bool:
        return ERASE in self.perms

    @property
    def can_edit(self) -> bool:
        """Edit a draft, submit it, manage representatives: the owner alone."""
        return EDIT in self.perms

    @property
    def is_representative(self) -> bool:
        return not self.is_owner and self.can_view


def rights(*, may_withdraw: bool, may_erase: bool) -> list[str]:
    """The codenames a representative is granted."""
    return [
        *REPRESENTATIVE_GRANTS,
        *([WITHDRAW] if may_withdraw else []),
        *([ERASE] if may_erase else []),
    ]


NO_ACCESS = ApplicationAccess()
OWNER = ApplicationAccess(perms=ALL, is_owner=True)


def granted(*, user: User, application: Application) -> frozenset[str]:
    """The codenames granted to the user on the application: one query on the direct-FK table."""
    return frozenset(
        ApplicationUserObjectPermission.objects.filter(
            content_object_id=application.pk, user_id=user.pk
        ).values_list("permission__codename", flat=True)
    )


def application_access(user: User, application: Application) -> ApplicationAccess:
    """The one check for an application: what `user` may do with it now."""
    if not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    if application.citizen_id == user.pk:
        return OWNER
    perms = granted(user=user, application=application)
    if VIEW not in perms:
        return NO_ACCESS
    return ApplicationAccess(perms=perms)


def represented_applications(user: User) -> QuerySet[Application]:
    """The applications the user acts on for someone else (a join on the grant table)."""
    if not user.is_authenticated or not user.is_active:
        return Application.objects.none()
    grant = Exists(
        ApplicationUserObjectPermission.objects.filter(
            content_object_id=OuterRef("pk"),
            user_id=user.pk,
            permission__codename=VIEW,
            permission__content_type__app_label="services",
        )
    )
    return Application.objects.filter(grant).exclude(citizen_id=user.pk)


# --- Grants (the representation actions call these) ---


def _permissions(codenames: Iterable[str]) -> list[Permission]:
    return list(
        Permission.objects.filter(
            content_type__app_label="services",
            content_type__model="application",
            codename__in=list(codenames),
        )
    )


def grant(*, user: User, application: Application, codenames: Iterable[str]) -> None:
    """Grant these codenames on the application to the user (rows that exist are kept)."""
    codenames = list(codenames)
    permissions = _permissions(codenames)
    if len(permissions) != len(set(codenames)):
        raise RuntimeError("the application permissions are missing: run migrate")
    ApplicationUserObjectPermission.objects.bulk_create(
        [
            ApplicationUserObjectPermission(
                permission=p, user_id=user.pk, content_object_id=application.pk
            )
            for p in permissions
        ],
        ignore_conflicts=True,
    )


def ungrant(
    *, user: User, application: Application, codenames: Iterable[str] = ALL - {EDIT}
) -> int:
    """Remove these codenames (all by default) on the application from the user."""
    deleted, _rows = ApplicationUserObjectPermission.objects.filter(
        content_object_id=application.pk, user_id=user.pk, permission__codename__in=list(codenames)
    ).delete()
    return deleted
