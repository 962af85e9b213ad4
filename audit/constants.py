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
    FIELD_CREATE = "catalog.field_create", _("Data dictionary field created")
    FIELD_UPDATE = "catalog.field_update", _("Data dictionary field updated")
    SERVICE_CREATE = "catalog.service_create", _("Service created")
    SERVICE_UPDATE = "catalog.service_update", _("Service updated")
    VERSION_CREATE = "catalog.version_create", _("Service version drafted")
    VERSION_UPDATE = "catalog.version_update", _("Service version draft changed")
    VERSION_PUBLISH = "catalog.version_publish", _("Service version published")
    APPLICATION_CREATE = "application.create", _("Application started")
    APPLICATION_UPDATE = "application.update", _("Draft answers saved")
    APPLICATION_SUBMIT = "application.submit", _("Application submitted")
    APPLICATION_WITHDRAW = "application.withdraw", _("Application withdrawn")
    ATTACHMENT_UPLOAD = "attachment.upload", _("File uploaded")
    ATTACHMENT_DOWNLOAD = "attachment.download", _("File downloaded")
    PROFILE_UPDATE = "profile.update", _("Profile updated")
