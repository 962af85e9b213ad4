"""Celery tasks of the workflow engine: take ids, call an action, nothing else.

The message is only a wake-up call: the intent to route is the application's
`routing_requested_at`, committed with the change; a lost message is made good by the sweeper.
A routing task routes its application and, in the same transaction, other applications waiting
to be routed (`ROUTING_BATCH_SIZE` in all), so a backlog is drained in batches.
"""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings
from django.db import DatabaseError

from . import consultations, deadlines, notifications, routing


class RoutingTask(Task):
    """Retries transient failures with backoff; after the last one, records an incident."""

    autoretry_for = (DatabaseError, OSError)
    retry_backoff = True
    retry_backoff_max = 300
    retry_jitter = True
    acks_late = True
    ignore_result = True

    @property
    def max_retries(self) -> int:  # type: ignore[override]
        return settings.ROUTING_MAX_RETRIES

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        application_id = kwargs.get("application_id") or (args[0] if args else None)
        if application_id is not None:
            routing.incident_record(
                application_id=application_id,
                task=self.name,
                error=exc,
                attempts=self.request.retries + 1,
            )


@shared_task(base=RoutingTask, bind=True)
def route_application(self, application_id: int) -> None:
    routing.route_requested(application_id=application_id)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def maintenance_heartbeat(self) -> None:
    """Scheduled by beat; proves a worker consumes the maintenance queue."""
    queue = (self.request.delivery_info or {}).get("routing_key") or "maintenance"
    routing.heartbeat_record(queue=queue, hostname=self.request.hostname)


@shared_task(acks_late=True, ignore_result=True)
def maintenance_sweep_routing() -> int:
    return routing.sweep_routing()


@shared_task(acks_late=True, ignore_result=True)
def maintenance_sla_scan() -> dict:
    return deadlines.sla_scan()


@shared_task(acks_late=True, ignore_result=True)
def maintenance_expire_consultations() -> int:
    """Scheduled by beat: end the consultations past their end and those of closed cases."""
    return consultations.consultations_expire()


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_case_reminder(case_id: int) -> None:
    notifications.case_reminder(case_id=case_id)


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_case_breached(case_id: int) -> None:
    notifications.case_breached(case_id=case_id)


# The citizen's messages after the engine changed their application. The names are those the
# tasks had when they lived with the citizen side, so messages already queued still run.
@shared_task(
    name="services.tasks.notify_application_changed",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notify_application_changed(application_id: int) -> None:
    """Kept for messages queued before `notify_applications_changed` existed."""
    if notifications.applications_changed(application_ids=[application_id]):
        raise OSError("the message could not be sent")  # retried with backoff


@shared_task(
    name="services.tasks.notify_applications_changed",
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notify_applications_changed(self, application_ids: list[int]) -> None:
    """One routing batch's messages; only those that could not be sent are tried again."""
    failed = notifications.applications_changed(application_ids=application_ids)
    if failed:
        raise self.retry(args=[failed], countdown=min(600, 30 * 2**self.request.retries))
