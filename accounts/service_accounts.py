"""Service accounts: a department's back-office system calling the case API with scoped tokens.

A service account is a `User` with `service_department` set: no usable password, no email
address allauth knows, refused by the sign-in forms (accounts/adapters.py). It is a clerk of its
one department (a membership, so the department group's object grants apply and nothing else),
never a lead, supervisor or administrator; its role is `system`. Every audit event it records
names its responsible official (`audit.actions`, from `User.audit_responsible`).

Administrators manage every department's service accounts, a department's leads their own
departments'; the checks are here, so the pages, the API and the command share them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.actions import audit_record
from audit.constants import AuditAction
from core.errors import InvalidInput, PortalError, WrongState

from .actions import department_groups_sync, membership_grant
from .constants import MembershipRole
from .models import ApiToken, Department, User
from .scopes import SCOPES
from .selectors import may_manage, responsible_candidates
from .token_actions import IssuedToken, token_issue, token_revoke, tokens_revoke_all

MAX_TOKEN_DAYS = 365
MAX_OVERLAP_HOURS = 24 * 30
EMAIL_DOMAIN = "service-accounts.invalid"


class NotManager(PortalError):
    """The actor may not manage this department's service accounts (403)."""

    status = 403


def _require_manager(actor: User, department: Department) -> None:
    if not may_manage(actor, department):
        raise NotManager(_("You may not manage this department's service accounts."))


@transaction.atomic
def service_account_create(
    *, actor: User | None, department: Department, label: str, responsible: User | None
) -> User:
    """Create a department's service account, a clerk of the department (no password, no
    sign-in); `actor` None for the command line."""
    if actor is not None:
        _require_manager(actor, department)
    label = (label or "").strip()
    errors: dict[str, list[str]] = {}
    if not label or len(label) > 100:
        errors["label"] = [_("Give the system a label of 1 to 100 characters.")]
    if not department.active:
        errors["department"] = [_("This department is not active.")]
    if (
        responsible is None
        or not responsible_candidates(department=department).filter(pk=responsible.pk).exists()
    ):
        errors["responsible"] = [
            _("The responsible official must be an active member of the department.")
        ]
    if errors:
        raise InvalidInput(_("The service account was not created."), errors=errors)
    account = User.objects.create_user(
        email=f"{department.slug}.{secrets.token_hex(6)}@{EMAIL_DOMAIN}",
        password=None,  # unusable: a service account never signs in with a password
        full_name=label,
        service_department=department,
        service_label=label,
        service_responsible=responsible,
        service_created_by=actor,
    )
    membership_grant(actor=actor, user=account, department=department, role=MembershipRole.CLERK)
    audit_record(
        action=AuditAction.SERVICE_ACCOUNT_CREATE,
        actor=actor,
        target=account,
        department=department,
        details={"account": account.pk, "responsible": responsible.pk, "label": label},
    )
    return account


def _check_scopes(scopes: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(scopes or []))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        raise InvalidInput(
            _("Unknown scope."),
            errors={"scopes": [_("Unknown scope: %(scope)s.") % {"scope": ", ".join(unknown)}]},
        )
    if not chosen:
        raise InvalidInput(
            _("Choose at least one scope."), errors={"scopes": [_("Choose at least one scope.")]}
        )
    return chosen


def _check_days(days: int | None) -> timedelta:
    if days is None or not 1 <= days <= MAX_TOKEN_DAYS:
        message = ngettext(
            "A service account's token expires after 1 to %(max)d day.",
            "A service account's token expires after 1 to %(max)d days.",
            MAX_TOKEN_DAYS,
        ) % {"max": MAX_TOKEN_DAYS}
        raise InvalidInput(message, errors={"days": [message]})
    return timedelta(days=days)


def _lock(account: User) -> bool:
    """Lock the account's row, in the caller's transaction, and say whether it is active.
    Issuing, rotating, revoking all and deactivating take it first, so they run one after the
    other: a "revoke all" never misses a key a rotation was committing meanwhile."""
    active = User.objects.select_for_update().filter(pk=account.pk).values_list("is_active")
    return bool(active.first() == (True,))


def _require_live(actor: User | None, account: User) -> None:
    if not account.is_service_account:
        raise InvalidInput(_("This is not a service account."))
    if actor is not None:
        _require_manager(actor, account.service_department)
    if not _lock(account):
        raise InvalidInput(_("This service account is deactivated."))


@transaction.atomic
def service_token_issue(
    *, actor: User | None, account: User, scopes: list[str], days: int | None, label: str = ""
) -> IssuedToken:
    """A new token for a service account: at least one known scope, an expiry of 1 to 365 days.
    The key is returned once (`IssuedToken.key`)."""
    _require_live(actor, account)
    chosen, lifetime = _check_scopes(scopes), _check_days(days)
    return token_issue(
        actor=actor, user=account, label=label.strip(), lifetime=lifetime, scopes=chosen
    )


@transaction.atomic
def service_token_rotate(
    *,
    actor: User | None,
    token: ApiToken,
    overlap_hours: int = 24,
    days: int | None = None,
) -> IssuedToken:
    """Replace a service account's token: a new key with the same scopes and label, and the old
    one still valid for `overlap_hours` (0: it ends now), or until revoked, while the system
    changes over. `days`: the new one's lifetime, the old one's by default."""
    account = token.user
    _require_live(actor, account)
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        message = _("The overlap is 0 to %(max)d hours.") % {"max": MAX_OVERLAP_HOURS}
        raise InvalidInput(message, errors={"overlap_hours": [message]})
    if days is None:
        days = max(1, min(MAX_TOKEN_DAYS, (token.expires_at - token.created_at).days))
    lifetime = _check_days(days)
    token = ApiToken.objects.select_for_update().filter(pk=token.pk).first()
    if token is None:  # revoked meanwhile
        raise WrongState(_("This token was revoked meanwhile; issue a new one."))
    now = timezone.now()
    issued = token_issue(
        actor=actor, user=account, label=token.label, lifetime=lifetime, scopes=token.scopes
    )
    token.expires_at = min(token.expires_at, now + timedelta(hours=overlap_hours))
    token.save(update_fields=["expires_at"])
    audit_record(
        action=AuditAction.TOKEN_ROTATE,
        actor=actor,
        target=token,
        department=account.service_department,
        details={
            "token": token.pk,
            "prefix": token.prefix,
            "old_expires": token.expires_at.isoformat(),
            "new_token": issued.token.pk,
            "new_prefix": issued.token.prefix,
            "scopes": issued.token.scopes,
        },
    )
    return issued


@transaction.atomic
def service_token_revoke(*, actor: User | None, token: ApiToken) -> None:
    if actor is not None:
        _require_manager(actor, token.user.service_department)
    token_revoke(actor=actor, token=token)


@transaction.atomic
def service_tokens_revoke_all(*, actor: User | None, account: User) -> int:
    if actor is not None:
        _require_manager(actor, account.service_department)
    _lock(account)
    return tokens_revoke_all(actor=actor, user=account, reason="revoked")


@transaction.atomic
def service_account_deactivate(*, actor: User | None, account: User) -> User:
    """Switch a service account off for good: it is inactive (token authentication refuses it),
    out of the department's groups (no grant reaches it), and its tokens are revoked. Its
    membership row stays, as the record of what it was."""
    _require_live(actor, account)
    account.is_active = False
    account.save(update_fields=["is_active"])
    department_groups_sync(user=account, department=account.service_department, role=None)
    revoked = tokens_revoke_all(actor=actor, user=account, reason="deactivated")
    audit_record(
        action=AuditAction.SERVICE_ACCOUNT_DEACTIVATE,
        actor=actor,
        target=account,
        department=account.service_department,
        details={"account": account.pk, "tokens_revoked": revoked},
    )
    return account
