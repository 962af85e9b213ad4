"""Audit action names. Each state change in the portal records exactly one of these."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    ACCOUNT_SIGNUP = "account.signup", _("Account signed up")
    ACCOUNT_EMAIL_VERIFIED = "account.email_verified", _("Email address verified")
    ACCOUNT_LOGIN = "account.login", _("Signed in")
    ACCOUNT_LOGOUT = "account.logout", _("Signed out")
    ACCOUNT_LOGIN_FAILED = "account.login_failed", _("Sign-in failed")
    USER_CREATE = "user.create", _("User created")
    USER_UPDATE = "user.update", _("User updated")
    DEPARTMENT_CREATE = "department.create", _("Department created")
    DEPARTMENT_UPDATE = "department.update", _("Department updated")
    MEMBERSHIP_GRANT = "membership.grant", _("Department role granted")
    MEMBERSHIP_REVOKE = "membership.revoke", _("Department role revoked")
    TOKEN_ISSUE = "token.issue", _("API token issued")
