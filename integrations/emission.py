"""The outbox: a delivery per subscription that wants an event, written in the transaction of
the change (`workflows.events` calls `on_cases`, filled in `IntegrationsConfig.ready()`).

A change that rolls back leaves no delivery; a committed one has its deliveries, whatever
happens to the wake-up call sent after the commit (the beat sweep sends what is due). Each
delivery of one case for one subscription takes the next `sequence` (the change holds the
case's lock; the unique constraint backs it). The payload carries no personal values: those
are added at send time, for subscriptions allowed them, and audited then.

Cost per change: one query for the subscriptions of the cases' departments, one for the last
sequence numbers (none for new cases), one insert.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from services.models import Application
from workflows import events as case_events
from workflows.models import Case

from .constants import SubscriptionStatus
from .models import Delivery, Subscription

logger = logging.getLogger(__name__)
# Set while a wake-up call is queued and not yet taken (the task clears it when it starts):
# changes committed meanwhile are sent by that call, so they queue none of their own. A call
# lost with the key set only delays deliveries until the key expires or beat's next round.
WAKE_PENDING_KEY = "integrations:webhooks:wake-pending"
WAKE_PENDING_SECONDS = 10

LIVE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.FAILING, SubscriptionStatus.PAUSED)


def new_message_id() -> str:
    """The `webhook-id`: unique, and the receiver's idempotency key."""
    return f"msg_{uuid.uuid4().hex}"


def case_url(reference: str) -> str:
    return f"/api/v1/cases/{reference}/"


def _application_refs(cases: list[Case]) -> dict[int, str]:
    """The applications' references: from the cases when they carry their application, else
    one query for all."""
    refs = {}
    missing = set()
    for case in cases:
        if Case.application.is_cached(case):
            refs[case.application_id] = case.application.reference
        else:
            missing.add(case.application_id)
    if missing:
        refs.update(Application.objects.filter(pk__in=missing).values_list("pk", "reference"))
    return refs


def payload(
    event: str, case: Case, sequence: int, application_ref: str, at: Any, subscription_id: int
) -> dict:
    """What a receiver gets (without personal values). `sequence` counts the case's events for
    one subscription, so the subscription is named beside it: two subscriptions to one endpoint,
    or one registered again, each count from 1."""
    return {
        "type": event,
        "timestamp": at.isoformat(),
        "data": {
            "subscription": subscription_id,
            "case": case.reference,
            "sequence": sequence,
            "application": application_ref,
            "department": case.department.slug,
            "service": case.version.service.slug,
            "step": case.step,
            "status": case.status,
            "due_at": case.due_at.isoformat() if case.due_at else None,
            "fields": list(case.fields),
            "case_url": case_url(case.reference),
        },
    }


def _subscriptions(department_ids: Iterable[int], event: str) -> list[Subscription]:
    found = Subscription.objects.filter(
        department_id__in=set(department_ids), deleted_at__isnull=True, status__in=LIVE
    ).only("pk", "department_id", "events")
    return [s for s in found if event in (s.events or [])]


def _last_sequences(subscriptions: list[Subscription], cases: list[Case]) -> dict[tuple, int]:
    rows = (
        Delivery.objects.filter(subscription__in=subscriptions, case__in=cases)
        .values("subscription_id", "case_id")
        .annotate(last=Max("sequence"))
    )
    return {(r["subscription_id"], r["case_id"]): r["last"] for r in rows}


def on_cases(event: str, cases: list[Case]) -> None:
    """The listener of `workflows.events`: write the deliveries of `event` for `cases`."""
    subscriptions = _subscriptions((c.department_id for c in cases), event)
    if not subscriptions:
        return
    by_department: dict[int, list[Subscription]] = {}
    for subscription in subscriptions:
        by_department.setdefault(subscription.department_id, []).append(subscription)
    wanted = [c for c in cases if c.department_id in by_department]
    # A case created in this change has no deliveries yet: no query for its sequence.
    new = event == case_events.CASE_OPENED
    last = {} if new else _last_sequences(subscriptions, wanted)
    refs = _application_refs(wanted)
    now = timezone.now()
    rows = []
    for case in wanted:
        for subscription in by_department[case.department_id]:
            sequence = last.get((subscription.pk, case.pk), 0) + 1
            rows.append(
                Delivery(
                    subscription_id=subscription.pk,
                    message_id=new_message_id(),
                    event=event,
                    case=case,
                    sequence=sequence,
                    payload=payload(
                        event, case, sequence, refs[case.application_id], now, subscription.pk
                    ),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    Delivery.objects.bulk_create(rows)
    wake_after_commit()


def _wake() -> bool:
    """Queue a wake-up call unless one is queued already; True when this one was queued."""
    from .tasks import notify_webhooks  # the tasks import the delivery, which imports this

    try:
        queued = cache.add(WAKE_PENDING_KEY, 1, timeout=WAKE_PENDING_SECONDS)
    except Exception:  # the cache is down: wake anyway, as before there was a cache
        logger.warning("webhooks: cache unavailable, waking without de-duplication", exc_info=True)
        queued = True
    if not queued:
        return False  # a call is queued already and will send this change's deliveries
    try:
        notify_webhooks.delay()
    except Exception:
        # The broker is down: nothing is queued, so the next change may try again; beat's round
        # sends these deliveries meanwhile. (on_commit's robust mode logs the error too.)
        forget_wake()
        raise
    return True


def forget_wake() -> None:
    """The queued wake-up call was taken (or never queued): the next change queues one."""
    try:
        cache.delete(WAKE_PENDING_KEY)
    except Exception:
        logger.warning("webhooks: cache unavailable, wake-up key not cleared", exc_info=True)


def wake_after_commit() -> None:
    """Wake a worker once after the commit (a broker that is down fails nothing: the beat sweep
    sends later)."""
    if connection.in_atomic_block and any(entry[1] is _wake for entry in connection.run_on_commit):
        return
    transaction.on_commit(_wake, robust=True)
