"""Webhook subscriptions of department systems, their signing secrets, and the outbox of
deliveries (which is also the delivery log)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.freetext import SealedRow, opened

from .constants import DeliveryStatus, EventType, SubscriptionStatus


class Subscription(models.Model):
    """A department system's endpoint and the events of the department's cases it receives."""

    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="webhook_subscriptions",
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    url = models.URLField(_("endpoint"), max_length=500)
    # A list of EventType values.
    events = models.JSONField(_("events"), default=list)
    # Whether the payload carries the step's personal values; otherwise the receiver fetches
    # them through the API with its own credentials.
    include_personal = models.BooleanField(_("includes personal data"), default=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # Deleted by a person: nothing more is written or sent; the row stays for the audit log.
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["department_id", "pk"]

    def __str__(self) -> str:
        return self.label or self.url


class WebhookIncident(models.Model):
    """A subscription whose deliveries failed WEBHOOK_FAILING_AFTER times in a row: opened when
    it becomes failing, resolved by the first delivery that succeeds afterwards."""

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="incidents",
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("webhook incident")
        verbose_name_plural = _("webhook incidents")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=models.Q(resolved_at__isnull=True),
                name="webhook_incident_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.opened_at:%Y-%m-%d %H:%M}"


class SubscriptionSecret(SealedRow, models.Model):
    """A signing secret of a subscription, sealed at rest. During a rotation two are valid: the
    old one until `expires_at`, and deliveries are signed with both."""

    sealed_kind = "webhook_secret"

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="secrets",
    )
    secret = models.TextField(_("secret (sealed)"))
    # The first characters of the secret, so an administrator can tell secrets apart.
    prefix = models.CharField(_("prefix"), max_length=16)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    plain_secret = opened("secret")

    class Meta:
        verbose_name = _("webhook signing secret")
        verbose_name_plural = _("webhook signing secrets")
        ordering = ["subscription_id", "-created_at"]

    def __str__(self) -> str:
        return self.prefix


class Delivery(models.Model):
    """One event for one subscription: written in the transaction of the change (the outbox),
    then sent, retried and logged. `message_id` is the `webhook-id` (the receiver's idempotency
    key); `sequence` numbers the events of one case for one subscription from 1, without gaps."""

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    message_id = models.CharField(_("message id"), max_length=40, unique=True)
    event = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    case = models.ForeignKey(
        "workflows.Case",
        verbose_name=_("case"),
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    # What the receiver gets, without personal values (those are added, and audited, when sent).
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=200, blank=True)
    # At most the first 200 characters of the receiver's answer.
    response_prefix = models.CharField(_("response"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "case", "sequence"], name="webhook_delivery_sequence"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return self.message_id
