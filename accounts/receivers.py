"""Sign-in and sign-out audit events.

Django's auth signals are the only hook into its login flow; the receivers only call actions.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.constants import AuditAction

from . import actions


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs) -> None:
    actions.session_record(user=user, action=AuditAction.ACCOUNT_LOGIN)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        actions.session_record(user=user, action=AuditAction.ACCOUNT_LOGOUT)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The attempted email is personal data of possibly someone else: record only that it failed.
    actions.session_record(user=None, action=AuditAction.ACCOUNT_LOGIN_FAILED)


def _mfa_changed(change: str):
    def receiver_(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
        if user is not None:
            kind = getattr(authenticator, "type", "")
            actions.session_record(
                user=user, action=AuditAction.MFA_CHANGE, details={"change": change, "type": kind}
            )

    return receiver_


def _connect_mfa_signals() -> None:
    # allauth's MFA signals are its only hook into setting up and removing authenticators.
    from allauth.mfa import signals

    signals.authenticator_added.connect(
        _mfa_changed("added"), weak=False, dispatch_uid="audit_mfa_added"
    )
    signals.authenticator_removed.connect(
        _mfa_changed("removed"), weak=False, dispatch_uid="audit_mfa_removed"
    )
    signals.authenticator_reset.connect(
        _mfa_changed("reset"), weak=False, dispatch_uid="audit_mfa_reset"
    )


_connect_mfa_signals()
