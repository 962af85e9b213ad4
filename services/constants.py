"""States and kinds of the catalog and of applications."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("Public")
    PERSONAL = "personal", _("Personal")
    SENSITIVE = "sensitive", _("Sensitive")


ENCRYPTED_SENSITIVITIES = frozenset({Sensitivity.PERSONAL, Sensitivity.SENSITIVE})


class FieldType(models.TextChoices):
    STRING = "string", _("Text (one line)")
    TEXT = "text", _("Text (several lines)")
    DATE = "date", _("Date")
    EMAIL = "email", _("Email address")
    PHONE = "phone", _("Mobile phone number")
    NATIONAL_ID = "national_id", _("National ID number")
    ENUM = "enum", _("Choice")
    BOOLEAN = "boolean", _("Yes / no")
    NUMBER = "number", _("Number")
    INTEGER = "integer", _("Whole number")
    ADDRESS = "address", _("Address")
    FILE = "file", _("File")


class ServiceKind(models.TextChoices):
    LIFE_EVENT = "life_event", _("Life event")
    SERVICE = "service", _("Single service")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class ApplicationStatus(models.TextChoices):
    """Contract values: the states the API returns (docs/api.md)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    ACTION_REQUIRED = "action_required", _("Action required")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RejectEffect(models.TextChoices):
    CANCEL_DEPENDENTS = "cancel_dependents", _("Cancel the steps that depend on it")
    CONTINUE = "continue", _("The other steps continue")


# Titles of form pages, one per key prefix ("applicant.full_name" is on the "applicant" page).
SECTION_TITLES = {
    "applicant": _("About you"),
    "child": _("The child"),
    "parent": _("The other parent"),
    "birth": _("The birth"),
    "move": _("Your move"),
    "household": _("Your household"),
    "vehicle": _("Your vehicle"),
    "school": _("School"),
    "business": _("Your business"),
    "bank": _("Bank details"),
}
