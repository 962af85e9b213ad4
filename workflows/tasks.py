"""Celery tasks of the workflow engine: take ids, call an action, nothing else."""

from __future__ import annotations

from celery import shared_task

from . import actions


@shared_task(bind=True, acks_late=True, ignore_result=True)
def maintenance_heartbeat(self) -> None:
    """Scheduled by beat; proves a worker consumes the maintenance queue."""
    queue = (self.request.delivery_info or {}).get("routing_key") or "maintenance"
    actions.heartbeat_record(queue=queue, hostname=self.request.hostname)
