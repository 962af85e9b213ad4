"""Celery tasks of the citizen side: take ids, call an action, nothing else."""

from __future__ import annotations

from celery import shared_task

from . import notifications


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_application_submitted(application_id: int) -> None:
    notifications.application_submitted(application_id=application_id)


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_application_changed(application_id: int) -> None:
    """Kept for messages queued before `notify_applications_changed` existed."""
    if notifications.applications_changed(application_ids=[application_id]):
        raise OSError("the message could not be sent")  # retried with backoff


@shared_task(
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


@shared_task(acks_late=True, ignore_result=True)
def maintenance_erase_expired() -> int:
    from . import actions

    return actions.erase_expired()
