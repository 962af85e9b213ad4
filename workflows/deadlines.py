"""Deadlines of cases: the due date a case gets when it opens (business days, `calendar`), and
the SLA scan (beat) that reminds before it and escalates once after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.actions import audit_record
from audit.constants import AuditAction

from .calendar import add_business_days
from .constants import CaseStatus
from .models import Case


def start_clock(case: Case, now) -> None:
    """Open the case: its SLA clock starts, due at the end of its `sla_days`-th business day."""
    case.status = CaseStatus.OPEN
    case.opened_at = now
    case.due_at = add_business_days(now, case.sla_days)


def _mark(
    running: list, stamp: str, action: AuditAction, task: Any, *, now: Any, batch: int, **due: Any
) -> list[Case]:
    """Stamp (`stamp`, a column that is empty until then) the running cases due as `due` says,
    at most `batch` of them, the earliest due first; record `action` for each and queue `task`
    once the transaction commits. Returns the cases stamped."""
    # Only the case rows are locked: holding their applications would make routing skip
    # them (SKIP LOCKED) until the sweeper, and departments are shared by every decision.
    cases = list(
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status__in=running, **{f"{stamp}__isnull": True}, **due)
        .select_related("department", "application__citizen")
        .order_by("due_at")[:batch]
    )
    for case in cases:
        setattr(case, stamp, now)
        case.save(update_fields=[stamp])
        audit_record(
            action=action,
            actor=None,
            target=case,
            department=case.department,
            subject=case.application.citizen,
            details={"due_at": case.due_at.isoformat()},
        )
        transaction.on_commit(lambda pk=case.pk: task.delay(pk), robust=True)
    return cases


def sla_scan(*, now: Any = None, batch: int = 500) -> dict[str, int]:
    """Remind before the due date and escalate once after it.

    Rows are taken with SKIP LOCKED and marked in the same transaction, so overlapping scans
    (two beats by mistake, a slow scan) never notify twice; a marked case is never picked again.
    """
    from .tasks import notify_case_breached, notify_case_reminder

    now = now or timezone.now()
    soon = now + timedelta(hours=settings.SLA_REMINDER_HOURS)
    running = [CaseStatus.OPEN, CaseStatus.IN_PROGRESS]  # the clock stops while the citizen answers
    counts = {"reminded": 0, "breached": 0}
    with transaction.atomic():
        breached = _mark(
            running,
            "breached_at",
            AuditAction.CASE_BREACH,
            notify_case_breached,
            now=now,
            batch=batch,
            due_at__lte=now,
        )
        due_soon = _mark(
            running,
            "reminded_at",
            AuditAction.CASE_REMINDER,
            notify_case_reminder,
            now=now,
            batch=batch,
            due_at__gt=now,
            due_at__lte=soon,
        )
    counts["breached"], counts["reminded"] = len(breached), len(due_soon)
    return counts
