"""Writes on API tokens: issue, revoke, revoke all. Each records its audit event.

Tokens die with the authority they were issued under: `tokens_revoke_all` is called by the
actions that change a password or take a role away (accounts/actions.py, the allauth adapter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.actions import audit_record
from audit.constants import AuditAction

from . import tokens
from .models import ApiToken, User


class TokenError(ValueError):
    """A token request that cannot be carried out; the message is safe to show."""


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: `key` is the only copy of the secret and is never stored."""

    token: ApiToken
    key: str


@transaction.atomic
def token_issue(
    *,
    actor: User | None,
    user: User,
    label: str = "",
    lifetime: timedelta | None = None,
    scopes: list[str] | None = None,
) -> IssuedToken:
    """Issue a new API token for `user`; the key is returned once and only its digest kept.
    `scopes`: a service account's (accounts/service_accounts.py checks them); none for a person."""
    if not user.is_active:
        raise TokenError(_("This account is inactive; no token can be issued."))
    lifetime = tokens.default_lifetime() if lifetime is None else lifetime
    if lifetime <= timedelta(0):
        raise TokenError(_("A token must be valid for some time."))
    key = tokens.new_key()
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        prefix=tokens.key_prefix(key),
        digest=tokens.key_digest(key),
        label=label[:100],
        created_at=now,
        expires_at=now + lifetime,
        scopes=list(scopes or []),
    )
    audit_record(
        action=AuditAction.TOKEN_ISSUE,
        actor=actor,
        target=token,
        subject=user,
        details={
            "token": token.pk,
            "prefix": token.prefix,
            "expires": token.expires_at.isoformat(),
            **({"scopes": token.scopes} if token.scopes else {}),
        },
    )
    return IssuedToken(token=token, key=key)


@transaction.atomic
def token_revoke(*, actor: User | None, token: ApiToken) -> None:
    """Revoke one token (the caller has checked it may: see `tokens_for_owner`)."""
    audit_record(
        action=AuditAction.TOKEN_REVOKE,
        actor=actor,
        target=token,
        subject=token.user,
        details={"token": token.pk, "prefix": token.prefix, "reason": "revoked"},
    )
    token.delete()


@transaction.atomic
def tokens_revoke_all(*, actor: User | None, user: User, reason: str) -> int:
    """Revoke every token of `user` (a password change, a role lost, "revoke all").

    Records one event naming how many died, and none when the user had no token."""
    revoked = list(
        ApiToken.objects.select_for_update().filter(user=user).values_list("pk", flat=True)
    )
    if not revoked:
        return 0
    ApiToken.objects.filter(pk__in=revoked).delete()
    audit_record(
        action=AuditAction.TOKEN_REVOKE,
        actor=actor,
        target=user,
        subject=user,
        details={"tokens": revoked, "reason": reason},
    )
    return len(revoked)
