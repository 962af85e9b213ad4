"""Celery tasks of the citizen side: take ids, call an action, nothing else."""

from __future__ import annotations

from celery import shared_task

from . import notifications


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def notify_application_submitted(application_id: int) -> None:
    notifications.application_submitted(application_id=application_id)


@shared_task(acks_late=True, ignore_result=True)
def maintenance_erase_expired() -> int:
    from . import actions

    return actions.erase_expired()
