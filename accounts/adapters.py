"""allauth adapter: citizens who sign up get their audit events inside allauth's own flow."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from . import actions


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                actions.signup_record(user=user)
        return user

    def confirm_email(self, request, email_address):
        with transaction.atomic():
            result = super().confirm_email(request, email_address)
            actions.email_verified_record(user=email_address.user, email=email_address.email)
        return result
