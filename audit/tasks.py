"""Celery tasks of the audit log: take no personal data, call an action."""

from celery import shared_task

from . import actions, verifications


@shared_task(acks_late=True, ignore_result=True)
def maintenance_seal_audit() -> int:
    """Seal what is pending, then make (and export) a checkpoint if one is due."""
    sealed = total = actions.audit_seal()
    while sealed:  # catch up after a burst, one batch per transaction
        sealed = actions.audit_seal()
        total += sealed
    if actions.audit_checkpoint() is None:
        actions.audit_export_checkpoints(recent=1)  # retry an export that failed before
    return total


@shared_task(acks_late=True, ignore_result=True)
def maintenance_audit_checkpoint() -> None:
    """A checkpoint now, whatever the schedule (kept for deployments that schedule it)."""
    actions.audit_seal()
    actions.audit_checkpoint(force=True)


@shared_task(acks_late=True, ignore_result=True)
def maintenance_verify_audit(job_id: int) -> None:
    """Run a verification a supervisor asked for (`audit.verifications`)."""
    verifications.audit_verification_run(job_id=job_id)
