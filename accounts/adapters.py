"""allauth adapters: citizens who sign up get their audit events inside allauth's own flow; a
password set through allauth revokes the API tokens; a service account (a department's system)
never signs in through the browser; MFA secrets are encrypted at rest."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext

from core.middleware import client_ip

from . import actions, mfa_secrets


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        """The address sign-in limits count by: the same proxy-aware one as audit events and
        API throttling (X-Forwarded-For trusted only for TRUSTED_PROXY_COUNT hops)."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client address")
        return ip

    def authenticate(self, request, **credentials):
        # A service account has no usable password; should one ever be set (the admin site),
        # the sign-in form still treats it as a wrong one.
        user = super().authenticate(request, **credentials)
        return None if user is not None and user.is_service_account else user

    def pre_login(self, request, user, **kwargs):
        # Every allauth sign-in (password, code, after a reset) passes here: a department's
        # system calls the API with its tokens and has no session.
        if user.is_service_account:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)

    def format_email_subject(self, subject) -> str:
        """allauth's emails (confirm your address, reset your password) name the portal in the
        language they are written in: "[市民服务平台] 请确认您的电子邮箱地址"."""
        return f"[{gettext('Citizen portal')}] {force_str(subject)}"

    def save_user(self, request, user, form, commit=True):
        # The language the person signed up in: the emails workers send them use it until they
        # choose another with the switcher (which stores its choice too).
        language = translation.get_language()
        if not user.language and language in dict(settings.LANGUAGES):
            user.language = language
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                actions.signup_record(user=user)
        return user

    def set_password(self, user, password) -> None:
        # allauth's change, set and reset password forms all call this.
        with transaction.atomic():
            super().set_password(user, password)
            actions.user_password_changed(actor=user, user=user)

    def confirm_email(self, request, email_address):
        with transaction.atomic():
            result = super().confirm_email(request, email_address)
            actions.email_verified_record(user=email_address.user, email=email_address.email)
        return result


class MFAAdapter(DefaultMFAAdapter):
    """Secrets of authenticators are stored encrypted; a wrong key fails loudly."""

    def encrypt(self, text: str) -> str:
        return mfa_secrets.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secrets.decrypt(encrypted_text)
