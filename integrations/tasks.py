"""Celery tasks of the webhooks: take nothing but ids, call the delivery code.

`notify_webhooks` (queue `notifications`, by its name) sends what is due while that makes
progress, for at most DISPATCH_BUDGET_SECONDS: each change wakes it after its commit (one call
queued at a time: integrations.emission), and beat runs it every WEBHOOK_DISPATCH_SECONDS, which
sends the retries and whatever a lost wake-up call left behind. A batch that delivered nothing
and was not full ends the call: its retries come back through the queue (the follow-up below, or
beat), so a receiver that keeps failing does not hold a worker for the whole budget while the
other tasks of its queues wait. Several at once share the work (claims skip rows another worker
holds). A retry due within FOLLOW_UP_SECONDS also gets one wake-up call at its time (one for the
whole portal, kept by a cache key), so short backoffs do not wait for beat's next round.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from . import delivery, emission

logger = logging.getLogger(__name__)
DISPATCH_BUDGET_SECONDS = 30
BATCH = 100


FOLLOW_UP_SECONDS = 60
FOLLOW_UP_KEY = "integrations:webhooks:follow-up"


@shared_task(name="integrations.tasks.notify_webhooks", acks_late=True, ignore_result=True)
def notify_webhooks() -> int:
    # Cleared before the first claim: a change committed from now on either is claimed by this
    # call or queues the next one (integrations.emission).
    emission.forget_wake()
    sent, stop, retry = 0, time.monotonic() + DISPATCH_BUDGET_SECONDS, None
    while time.monotonic() < stop:
        batch = delivery.send_batch(limit=BATCH)
        if batch.next_retry is not None:
            retry = batch.next_retry if retry is None else min(retry, batch.next_retry)
        sent += batch.attempted
        # Go on while sending makes more due (a delivered event lets its case's next one go) or
        # a backlog remains (a full batch).
        if not batch.delivered and batch.attempted < BATCH:
            break
    if retry is not None:
        _follow_up(retry)
    return sent


def _follow_up(at) -> None:
    wait = max(0.2, (at - timezone.now()).total_seconds())
    if wait <= FOLLOW_UP_SECONDS and cache.add(FOLLOW_UP_KEY, 1, timeout=max(1, int(wait))):
        try:
            notify_webhooks.apply_async(countdown=wait)
        except Exception:  # the broker is down: beat's round sends it
            cache.delete(FOLLOW_UP_KEY)
            logger.warning("webhooks: no follow-up for the retry due at %s", at, exc_info=True)


# The name the rest of the code and the tests use for the dispatching task.
dispatch_webhooks = notify_webhooks


@shared_task(
    name="integrations.tasks.maintenance_purge_webhook_log", acks_late=True, ignore_result=True
)
def maintenance_purge_webhook_log() -> int:
    return delivery.purge_log()
