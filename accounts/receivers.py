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
