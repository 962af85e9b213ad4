"""Actions of the background verification of the audit log (`GET`/`POST
/api/v1/audit/verify/`): a supervisor asks, a worker recomputes the whole chain and reports
its progress as it goes, and the result is kept with the request."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from celery import current_app
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from .actions import audit_record
from .constants import AuditAction
from .models import AuditEvent, AuditVerification, VerificationStatus
from .selectors import audit_verify

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)
# A verification still "running" this long after it started is taken to have died with its
# worker: a new request starts another instead of waiting for it.
STALE_AFTER = timedelta(hours=6)
# Progress is written at most this often (seconds).
PROGRESS_EVERY = 1.0

_OPEN = (VerificationStatus.QUEUED, VerificationStatus.RUNNING)
# The key of the transaction-scoped advisory lock that lets one request at a time look for an
# open verification and create one (on PostgreSQL; SQLite runs one write at a time anyway).
_REQUEST_LOCK = 0x61756469  # "audi"


@transaction.atomic
def audit_verification_request(*, actor: User | None) -> tuple[AuditVerification, bool]:
    """The verification under way, or a new one queued for a worker; (job, created). Requests
    are serialised (`select_for_update` on no open job would lock nothing, and two first
    requests would each create one)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REQUEST_LOCK])
    open_job = (
        AuditVerification.objects.select_for_update()
        .filter(status__in=_OPEN, created_at__gte=timezone.now() - STALE_AFTER)
        .order_by("-created_at")
        .first()
    )
    if open_job is not None:
        return open_job, False
    job = AuditVerification.objects.create(
        requested_by=actor,
        # The chain's last position (an index read), not a count of tens of millions of rows.
        total=AuditEvent.objects.aggregate(last=Max("chain_seq"))["last"] or 0,
    )
    audit_record(
        action=AuditAction.AUDIT_VERIFY, actor=actor, target=job, details={"job": str(job.pk)}
    )
    transaction.on_commit(lambda: _queue(job.pk), robust=True)
    return job, True


def _queue(job_id: int) -> None:
    # By name: the task module imports this one.
    current_app.send_task("audit.tasks.maintenance_verify_audit", args=[job_id])


def audit_verification_run(*, job_id: int) -> AuditVerification | None:
    """Run a queued verification (again, if its worker died: still "running" after
    STALE_AFTER), writing its progress; a finished one, or one another worker has claimed (a
    redelivered task), is left alone."""
    now = timezone.now()
    rows = AuditVerification.objects.filter(pk=job_id)
    claimed = rows.filter(
        Q(status=VerificationStatus.QUEUED)
        | Q(status=VerificationStatus.RUNNING, started_at__lt=now - STALE_AFTER)
    ).update(status=VerificationStatus.RUNNING, started_at=now, checked=0)
    job = rows.first()
    if not claimed or job is None:
        return job
    last = [time.monotonic()]

    def progress(checked: int) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            rows.update(checked=checked)

    try:
        result = audit_verify(progress=progress)
    except Exception as exc:
        logger.exception("audit verification %s failed", job.pk)
        rows.update(
            status=VerificationStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
    else:
        rows.update(
            status=VerificationStatus.DONE,
            checked=result["checked"],
            total=max(result["checked"], job.total),
            result=result,
            finished_at=timezone.now(),
        )
    return AuditVerification.objects.get(pk=job.pk)
