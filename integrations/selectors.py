"""Who manages which department's webhooks, and the reads of the management pages and API.

Administrators manage every department's subscriptions; a lead those of the departments they
lead; anyone else none (None: the pages answer 404, the API 403). The same people manage the
departments' service accounts (`accounts.selectors.departments_managed`). A subscription or
delivery of a department out of the reader's scope is not found (404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet

from accounts.models import Department
from accounts.selectors import departments_managed, managed_department_ids
from workflows.selectors import small_int

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
    departments = tuple(departments_managed(user=user))
    every = managed_department_ids(user) is None
    return Scope(every=every, departments=departments) if every or departments else None


def _int(value: Any) -> int | None:
    if isinstance(value, str):
        return small_int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def subscriptions(*, scope: Scope) -> QuerySet[Subscription]:
    """The subscriptions in scope (not deleted), with their open incident and valid secrets."""
    found = Subscription.objects.filter(deleted_at__isnull=True)
    if not scope.every:
        found = found.filter(department__in=[d.pk for d in scope.departments])
    open_incidents = WebhookIncident.objects.filter(resolved_at__isnull=True)
    return (
        found.select_related("department")
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
