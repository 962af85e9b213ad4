"""Roles of the portal's users: a vocabulary every layer may use (the audit log records the
role an action was taken in; accounts decide who holds which)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The role a page or API call acts in; derived from the user's flags and memberships."""

    CITIZEN = "citizen", _("Citizen")
    CLERK = "clerk", _("Clerk")
    LEAD = "lead", _("Department lead")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")
    # A department's own back-office system: a service account's API calls, webhook deliveries.
    SYSTEM = "system", _("Department system")


class StaffRole(models.TextChoices):
    """Portal-wide roles held on the user itself (department roles are memberships)."""

    NONE = "", _("None")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


class MembershipRole(models.TextChoices):
    CLERK = "clerk", _("Clerk")
    LEAD = "lead", _("Department lead")


STAFF_ROLES = frozenset({Role.CLERK, Role.LEAD, Role.SUPERVISOR, Role.ADMIN})
