"""Who manages which department's webhooks, and the reads of the management pages and API.

Administrators manage every department's subscriptions; a lead those of the departments they
lead (`workflows.delegation.led_departments`, as the dashboards); anyone else none (None: the
pages answer 404, the API 403). A subscription or delivery of a department out of the reader's
scope is not found (404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from accounts.models import Department
from core.roles import Role
from workflows.delegation import led_departments

from .constants import DeliveryStatus
from .models import Delivery, Subscription, SubscriptionSecret, WebhookIncident

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Scope:
    """The departments whose webhooks a user manages; `every` for an administrator."""

    every: bool
    departments: tuple[Department, ...]

    def covers(self, department_id: int) -> bool:
        return self.every or any(d.pk == department_id for d in self.departments)


def manage_scope(*, user: User) -> Scope | None:
    if not user.is_authenticated or not user.is_active:
        return None
    if user.primary_role == Role.ADMIN:
        return Scope(every=True, departments=tuple(Department.objects.filter(active=True)))
    led = tuple(led_departments(user=user))
    return Scope(every=False, departments=led) if led else None


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def subscriptions(*, scope: Scope) -> QuerySet[Subscription]:
    """The subscriptions in scope (not deleted), with their open incident and valid secrets."""
    found = Subscription.objects.filter(deleted_at__isnull=True)
    if not scope.every:
        found = found.filter(department__in=[d.pk for d in scope.departments])
    open_incidents = WebhookIncident.objects.filter(resolved_at__isnull=True)
    return (
        found.select_related("department")
        .annotate(
            incident_open=Exists(open_incidents.filter(subscription=OuterRef("pk"))),
        )
        .prefetch_related(
            Prefetch("incidents", queryset=open_incidents, to_attr="open_incidents"),
            Prefetch("secrets", queryset=SubscriptionSecret.objects.order_by("-created_at")),
        )
        .order_by("department__slug", "pk")
    )


def subscription(*, scope: Scope, pk: Any) -> Subscription | None:
    pk = _int(pk)
    return None if pk is None else subscriptions(scope=scope).filter(pk=pk).first()


def department_in_scope(*, scope: Scope, slug: Any) -> Department | None:
    if not isinstance(slug, str):
        return None
    return next((d for d in scope.departments if d.slug == slug), None)


def deliveries(*, subscription: Subscription, status: str = "") -> QuerySet[Delivery]:
    """The delivery log of a subscription, newest first (`status` filters)."""
    found = Delivery.objects.filter(subscription=subscription).select_related("case")
    if status:
        found = found.filter(status=status)
    return found.order_by("-pk")


def delivery(*, subscription: Subscription, pk: Any) -> Delivery | None:
    pk = _int(pk)
    if pk is None:
        return None
    return (
        Delivery.objects.filter(subscription=subscription, pk=pk)
        .select_related("subscription")
        .first()
    )


STATUSES = DeliveryStatus.values
