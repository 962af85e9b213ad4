"""The vocabulary of webhooks to department systems: the events a subscription can ask for,
and the states of subscriptions and deliveries."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """What happened to a department's case (the `type` of a delivery's payload)."""

    CASE_OPENED = "case.opened", _("Case opened")
    CASE_CHANGED = "case.changed", _("Case changed")
    INFORMATION_ANSWERED = "case.information_answered", _("Information request answered")
    APPLICATION_WITHDRAWN = "application.withdrawn", _("Application withdrawn")
    CASE_CLOSED = "case.closed", _("Case closed")


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    # Too many deliveries failed in a row: an incident is open; retries go on at the longest
    # interval and the first success makes the subscription active again.
    FAILING = "failing", _("Failing")
    # Stopped by a person: nothing is sent; deliveries keep accumulating in the outbox.
    PAUSED = "paused", _("Paused")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    DELIVERED = "delivered", _("Delivered")
    # Every attempt failed: it waits for a replay, and later events of the same case wait behind it.
    FAILED = "failed", _("Failed")
