"""Audit action names. Each state change in the portal records exactly one of these.

The code (`case.create`) is what the log stores and the API filters on; people read its label
("Case created", 案件已创建 in Chinese) through `event_name`, never the code."""

from django.db import models
from django.utils.translation import gettext
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
    TOKEN_REVOKE = "token.revoke", _("API token revoked")
    TOKEN_ROTATE = "token.rotate", _("API token rotated")
    SERVICE_ACCOUNT_CREATE = "service_account.create", _("Service account created")
    SERVICE_ACCOUNT_DEACTIVATE = "service_account.deactivate", _("Service account deactivated")
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
    APPLICATION_STATUS = "application.status", _("Application status changed")
    APPLICATION_REPLY = "application.reply", _("Citizen replied")
    CASE_CREATE = "case.create", _("Case created")
    CASE_TRANSITION = "case.transition", _("Case moved by the engine")
    CASE_CLAIM = "case.claim", _("Case claimed")
    CASE_APPROVE = "case.approve", _("Case approved")
    CASE_REJECT = "case.reject", _("Case rejected")
    CASE_REQUEST_INFO = "case.request_info", _("Information requested")
    CASE_CITIZEN_REPLY = "case.citizen_reply", _("Citizen answered")
    CASE_REMINDER = "case.reminder", _("Deadline reminder")
    CASE_BREACH = "case.breach", _("Deadline missed")
    INCIDENT_CREATE = "incident.create", _("Routing failed")
    INCIDENT_RETRY = "incident.retry", _("Routing retried")
    CASE_RELEASE = "case.release", _("Case released")
    CASE_ASSIGN = "case.assign", _("Case assigned")
    CASE_NOTE = "case.note", _("Internal note added")
    PII_READ = "pii.read", _("Personal data viewed")
    PII_REVEAL = "pii.reveal", _("Personal data revealed")
    PII_SEARCH = "pii.search", _("Found by a national ID search")
    AUDIT_EXPORT = "audit.export", _("Audit log exported")
    DASHBOARD_EXPORT = "dashboard.export", _("Dashboard figures exported")
    AUDIT_INCIDENT = "audit.incident", _("Audit log integrity incident")
    DATA_EXPORT = "data.export", _("Personal data downloaded")
    MFA_CHANGE = "account.mfa_change", _("Two-factor settings changed")
    KEYS_ROTATE = "keys.rotate", _("Personal data re-encrypted under the newest key")
    APPLICATION_ERASE = "application.erase", _("Personal data of an application erased")
    RECEIPT_ISSUE = "receipt.issue", _("Receipt issued")
    LETTER_ISSUE = "letter.issue", _("Decision letter issued")
    RECEIPT_VERIFY = "receipt.verify", _("Receipt or letter verified")
    CASE_SHARE = "case.share", _("Case shared for an opinion")
    CASE_SHARE_REVOKE = "case.share_revoke", _("Case sharing withdrawn")
    CASE_SHARE_EXPIRE = "case.share_expire", _("Case sharing ended")
    CASE_OPINION = "case.opinion", _("Opinion given on a shared case")
    DELEGATION_CREATE = "delegation.create", _("Work delegated to a colleague")
    DELEGATION_REVOKE = "delegation.revoke", _("Delegation withdrawn")
    REPRESENTATION_GRANT = "representation.grant", _("Representative authorised")
    REPRESENTATION_REVOKE = "representation.revoke", _("Representative's authorisation revoked")
    OPENDATA_PUBLISH = "opendata.publish", _("Open statistics published")
    BACKUP_CREATE = "backup.create", _("Backup written")
    BACKUP_DRILL = "backup.drill", _("Restore drill run")
    BACKUP_INCIDENT = "backup.incident", _("Backup or restore drill failed")
    BACKUP_INCIDENT_RESOLVE = "backup.incident_resolve", _("Backup incident resolved")
    BACKUP_SWEEP = "backup.sweep", _("Orphaned files removed")
    AUDIT_VERIFY = "audit.verify", _("Audit log verification requested")


def event_name(action: str) -> str:
    """What a person reads for an audit action, in the active language: its label, or "Other
    event" for a code no longer in `AuditAction` (old rows keep their codes)."""
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return gettext("Other event")
