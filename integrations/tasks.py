"""Celery tasks of the webhooks: take nothing but ids, call the delivery code.

`notify_webhooks` (queue `notifications`, by its name) sends what is due until nothing is, or
for at most DISPATCH_BUDGET_SECONDS: each change wakes it after its commit, and beat runs it
every WEBHOOK_DISPATCH_SECONDS, which sends the retries and whatever a lost wake-up call left
behind. Several at once share the work (claims skip rows another worker holds).
"""

from __future__ import annotations

import time

from celery import shared_task

from . import delivery

DISPATCH_BUDGET_SECONDS = 30
BATCH = 100


@shared_task(name="integrations.tasks.notify_webhooks", acks_late=True, ignore_result=True)
def notify_webhooks() -> int:
    sent, stop = 0, time.monotonic() + DISPATCH_BUDGET_SECONDS
    while time.monotonic() < stop:
        attempted = delivery.send_due(limit=BATCH)
        if not attempted:
            break
        sent += attempted
    return sent


# The name the rest of the code and the tests use for the dispatching task.
dispatch_webhooks = notify_webhooks


@shared_task(
    name="integrations.tasks.maintenance_purge_webhook_log", acks_late=True, ignore_result=True
)
def maintenance_purge_webhook_log() -> int:
    return delivery.purge_log()
