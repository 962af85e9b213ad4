"""Celery tasks of the audit log: take no personal data, call an action."""

from celery import shared_task

from . import actions


@shared_task(acks_late=True, ignore_result=True)
def maintenance_seal_audit() -> int:
    sealed = total = actions.audit_seal()
    while sealed:  # catch up after a burst, one batch per transaction
        sealed = actions.audit_seal()
        total += sealed
    return total


@shared_task(acks_late=True, ignore_result=True)
def maintenance_audit_checkpoint() -> None:
    actions.audit_seal()
    actions.audit_checkpoint()
