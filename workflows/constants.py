"""States of a department's case (contract values the API returns)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for another department")
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_CITIZEN = "awaiting_citizen", _("Waiting for your answer")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


FINAL_CASE_STATES = frozenset({CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CANCELLED})
ACTIVE_CASE_STATES = frozenset(
    {CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_CITIZEN}
)
