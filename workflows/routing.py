"""The engine's routing: `advance` (the only writer of routing), batches, the sweeper, incidents.

`advance` is the imperative shell around `engine.plan`: it locks the application row, computes
the plan from the rows, applies it idempotently (one case per step, by a unique constraint),
grants the department's group its object permissions, and writes audit events. Running it
twice, or from two workers at once, gives the same result: the second run finds nothing to do.
The routing task (`route_requested`) routes its application and others waiting in one batch;
the sweeper (`sweep_routing`) routes those whose wake-up call was lost; a routing that gave up
leaves an incident for an administrator to retry. The clerks' decisions are in `actions`, the
due dates and the SLA scan in `deadlines`.

Over 400 lines: `_apply` and its helpers write all of a batch's cases, grants, application
rows and audit events together, and read best as one module.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback as tb
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Department, User
from audit.actions import audit_record, audit_record_many
from audit.constants import AuditAction
from core import references
from core.context import bind_context, current_context, reset_context
from core.references import new_reference
from services import catalog
from services.actions import request_routing
from services.constants import ApplicationStatus
from services.models import Application
from services.selectors import application_answers

from . import events as case_events
from . import permissions
from .constants import FINAL_CASE_STATES, CaseStatus
from .deadlines import start_clock
from .engine import Plan, plan, steps_of
from .models import Case, Incident, WorkerHeartbeat

logger = logging.getLogger(__name__)


def heartbeat_record(*, queue: str, hostname: str | None = None) -> WorkerHeartbeat:
    """Record that a worker consuming `queue` is alive. Operational data, not audited."""
    beat, _created = WorkerHeartbeat.objects.update_or_create(
        queue=queue,
        defaults={
            "seen_at": timezone.now(),
            "hostname": hostname or socket.gethostname(),
            "pid": os.getpid(),
        },
    )
    return beat


@transaction.atomic
def advance(*, application_id: int) -> Plan | None:
    """Bring the application's cases in line with its definition, answers and decisions."""
    found = advance_many(Application.objects.filter(pk=application_id), woken=application_id)
    return found.get(application_id)


def _definitions(
    applications: list[Application],
) -> dict[int, tuple[list, dict[str, tuple[Any, dict]]]]:
    """Each application's steps, and step key -> (version, step spec): the version ids in one
    query, the versions from the catalog cache."""
    pks: dict[int, list[int]] = {a.pk: [] for a in applications}
    links = Application.versions.through.objects.filter(application_id__in=list(pks))
    for application_id, version_id in links.values_list("application_id", "serviceversion_id"):
        pks[application_id].append(version_id)
    snapshot = catalog.current()
    definitions = {}
    for application_id, version_ids in pks.items():
        steps, specs = [], {}
        for version in snapshot.versions(version_ids):
            steps += steps_of(version.service.slug, version.workflow)
            for spec in version.workflow.get("steps", []):
                specs[f"{version.service.slug}:{spec['id']}"] = (version, spec)
        definitions[application_id] = (steps, specs)
    return definitions


def advance_many(candidates: QuerySet[Application], *, woken: int | None = None) -> dict[int, Plan]:
    """Lock the applications of `candidates` (waiting for rows another transaction holds) and
    advance each of them, in the caller's transaction, with one statement per kind of write for
    all of them together. Returns the plans by application id.

    An application whose plan cannot be computed (its definition or answers are broken) is left
    out and logged, still requested, for its own task to fail on and record an incident; if it is
    `woken` (the application whose task this is), the error is raised.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("advance_many must run inside a transaction")
    return _advance_locked(_lock(candidates, skip_locked=False), woken=woken)


def _lock(candidates: QuerySet[Application], *, skip_locked: bool) -> list[Application]:
    # The citizen comes with each row: the subject of every audit event written here.
    locked = candidates.select_for_update(of=("self",), skip_locked=skip_locked)
    return list(locked.select_related("citizen"))


def _advance_locked(applications: list[Application], *, woken: int | None) -> dict[int, Plan]:
    applications = [a for a in applications if a.status != ApplicationStatus.DRAFT]
    if not applications:
        return {}
    with catalog.catalog_memo():  # the catalog stamp is read once for the whole batch
        return _apply(applications, woken=woken)


def _plan_one(
    application: Application,
    definition: tuple[list, dict[str, tuple[Any, dict]]],
    cases: dict[str, Case],
    departments: dict[str, Department],
    now: Any,
) -> tuple[Plan, list[tuple[Application, str, Case]], list[tuple[Application, str, Case]]]:
    """One application's plan, its new cases (unsaved) and its changed cases (changed in memory,
    with their previous status)."""
    steps, specs = definition
    result = plan(
        steps,
        application_answers(application),
        {key: case.status for key, case in cases.items()},
        withdrawn=application.status == ApplicationStatus.WITHDRAWN,
    )
    created = []
    for key, status in sorted(result.create.items()):
        version, spec = specs[key]
        case = Case(
            reference=new_reference(references.CASE),
            application=application,
            version=version,
            department=departments[spec["department"]],
            step=spec["id"],
            step_name=spec.get("name", spec["id"]),
            fields=list(spec.get("fields", [])),
            status=CaseStatus.PENDING,
            sla_days=spec.get("sla_days", 5),
            created_at=now,
            updated_at=now,
        )
        if status == CaseStatus.OPEN:
            start_clock(case, now)
        else:
            case.status = status
        created.append((application, key, case))
    changed = []
    for key, status in sorted(result.transition.items()):
        case = cases[key]
        previous = case.status
        if status == CaseStatus.OPEN:
            start_clock(case, now)
        else:
            case.status = status
            if status in FINAL_CASE_STATES:
                case.decided_at = now
        case.updated_at = now
        changed.append((application, previous, case))
    return result, created, changed


def _apply(applications: list[Application], *, woken: int | None) -> dict[int, Plan]:
    now = timezone.now()
    definitions = _definitions(applications)
    existing: dict[int, dict[str, Case]] = {a.pk: {} for a in applications}
    for case in Case.objects.filter(application_id__in=list(existing)).select_related(
        "version__service", "department"
    ):
        existing[case.application_id][case.step_key] = case
    slugs = {
        spec["department"] for _s, specs in definitions.values() for _v, spec in specs.values()
    }
    departments = {d.slug: d for d in Department.objects.filter(slug__in=slugs)}
    by_id = {a.pk: a for a in applications}
    plans: dict[int, Plan] = {}
    created: list[tuple[Application, str, Case]] = []
    changed: list[tuple[Application, str, Case]] = []
    for application in applications:
        try:
            result, new, moved = _plan_one(
                application, definitions[application.pk], existing[application.pk], departments, now
            )
        except Exception:
            if application.pk == woken:
                raise
            logger.exception("routing: application %s left to its own task", application.pk)
            continue
        plans[application.pk] = result
        created += new
        changed += moved
    # One insert for all the new cases, one for their grants (assign_perm costs six queries a
    # grant), one update for the changed cases, one insert for the audit events.
    Case.objects.bulk_create([case for _a, _key, case in created])
    permissions.grant_department(case for _a, _key, case in created)
    if changed:
        Case.objects.bulk_update(
            [case for _a, _p, case in changed],
            ["status", "opened_at", "due_at", "decided_at", "updated_at"],
        )
    permissions.revoke_on_close(
        [case for _a, _key, case in created] + [case for _a, _p, case in changed]
    )
    _emit(created, changed)
    events = [
        (
            application.pk,
            {
                "action": AuditAction.CASE_CREATE,
                "actor": None,
                "target": case,
                "subject": application.citizen,
                "department": case.department,
                "details": {
                    "application": application.reference,
                    "step": key,
                    "status": case.status,
                },
            },
        )
        for application, key, case in created
    ] + [
        (
            application.pk,
            {
                "action": AuditAction.CASE_TRANSITION,
                "actor": None,
                "target": case,
                "subject": application.citizen,
                "department": case.department,
                "details": {"from": previous, "to": case.status, "by": "engine"},
            },
        )
        for application, previous, case in changed
    ]
    # The applications: one UPDATE per kind of change (routed only; a new status; completed).
    groups: dict[str | None, list[int]] = {}  # new status (None: unchanged) -> applications
    notify = []
    for application_id, result in plans.items():
        application = by_id[application_id]
        previous_status = application.status
        new_status = result.status if result.status != previous_status else None
        if new_status:
            events.append(
                (
                    application_id,
                    {
                        "action": AuditAction.APPLICATION_STATUS,
                        "actor": None,
                        "target": application,
                        "subject": application.citizen,
                        "details": {"from": previous_status, "to": result.status},
                    },
                )
            )
        groups.setdefault(new_status, []).append(application_id)
        if result.create or result.transition or new_status:
            notify.append(application_id)
    for new_status, ids in groups.items():
        values: dict[str, Any] = {"routing_requested_at": None, "routed_at": now}
        if new_status:
            values["status"] = new_status
        if new_status == ApplicationStatus.COMPLETED:
            values["completed_at"] = now
        Application.objects.filter(pk__in=ids).update(**values)
    _record(events, woken=woken)
    if notify:
        from .tasks import notify_applications_changed  # the tasks import this module

        transaction.on_commit(lambda: notify_applications_changed.delay(notify), robust=True)
    return plans


def _emit(
    created: list[tuple[Application, str, Case]], changed: list[tuple[Application, str, Case]]
) -> None:
    """Tell the listeners (department systems' webhooks) what routing did, in its transaction:
    new cases; cases cancelled by a withdrawal (the withdrawal, then the closing); other closed
    cases; the rest changed (a pending case opening)."""
    case_events.emit(case_events.CASE_OPENED, [case for _a, _key, case in created])
    withdrawn, closed, moved = [], [], []
    for application, _previous, case in changed:
        case.application = application  # read once for the batch, not per case
        if case.status in FINAL_CASE_STATES:
            if application.status == ApplicationStatus.WITHDRAWN:
                withdrawn.append(case)
            closed.append(case)
        else:
            moved.append(case)
    case_events.emit(case_events.APPLICATION_WITHDRAWN, withdrawn)
    case_events.emit(case_events.CASE_CLOSED, closed)
    case_events.emit(case_events.CASE_CHANGED, moved)


def _routing_requested(application_id: int) -> bool:
    """Whether the application waits to be routed: after a burst, most wake-up calls find their
    application routed by an earlier batch, so this check is one cheap primary-key read."""
    table = Application._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE id = %s AND routing_requested_at IS NOT NULL",  # noqa: S608
            [application_id],
        )
        return cursor.fetchone() is not None


def route_requested(*, application_id: int, batch: int | None = None) -> dict[int, Plan]:
    """The routing task's work: the woken application, if its routing is still requested, and
    up to `batch - 1` other requested applications (oldest request first), in one transaction.

    The woken application is waited for if another transaction holds it; the others are taken
    only if no one holds them and their request is recent (younger than the sweeper's cutoff):
    each keeps its own wake-up call, and the sweeper is the backstop. After a burst of
    submissions the first tasks route the backlog in batches and the later wake-up calls find
    their application done, and stop there. If the batch fails, the woken application is routed
    alone (a failure there is the task's: retried, then an incident).
    """
    batch = batch or settings.ROUTING_BATCH_SIZE
    if not _routing_requested(application_id):
        return {}  # routed already (by an earlier batch, or a duplicate delivery)
    requested = Application.objects.filter(routing_requested_at__isnull=False)
    if batch > 1:
        try:
            with transaction.atomic():
                return _route_batch(application_id, requested, batch)
        except Exception:
            logger.exception("routing: the batch of application %s failed", application_id)
    with transaction.atomic():
        return advance_many(requested.filter(pk=application_id), woken=application_id)


def _route_batch(application_id: int, requested: QuerySet[Application], batch: int) -> dict:
    # The woken application is waited for, as `advance` does: its outcome is its own task's
    # (retries, then an incident), never skipped. The others are recent requests no other
    # transaction holds; older ones are the sweeper's and their own tasks' (an application
    # that keeps failing must not take a place in every batch).
    woken = _lock(requested.filter(pk=application_id), skip_locked=False)
    if not woken:
        return {}
    recent = timezone.now() - timedelta(seconds=settings.ROUTING_SWEEP_AFTER_SECONDS)
    others = requested.filter(routing_requested_at__gt=recent).exclude(pk=application_id)
    others = others.order_by("routing_requested_at", "pk")[: batch - 1]
    return _advance_locked(woken + _lock(others, skip_locked=True), woken=application_id)


def _record(events: list[tuple[int, dict[str, Any]]], *, woken: int | None) -> None:
    """Write the audit events: the woken application's under the task's request id (the
    request that asked for routing), the others' under a request id of their own."""
    audit_record_many([event for pk, event in events if pk == woken])
    others = [event for pk, event in events if pk != woken]
    if others:
        token = bind_context(request_id=None, ip=None, source=current_context().source)
        try:
            audit_record_many(others)
        finally:
            reset_context(token)


def incident_record(
    *, application_id: int, task: str, error: BaseException, attempts: int
) -> Incident | None:
    """Routing gave up after its retries: keep the error for an administrator to retry."""
    with transaction.atomic():
        application = Application.objects.filter(pk=application_id).first()
        if application is None:
            return None
        incident = Incident.objects.create(
            application=application,
            task=task,
            error=f"{type(error).__name__}: {error}"[:2000],
            traceback="".join(tb.format_exception(error))[-20000:],
            attempts=attempts,
        )
        audit_record(
            action=AuditAction.INCIDENT_CREATE,
            actor=None,
            target=application,
            details={"task": task, "attempts": attempts, "error": type(error).__name__},
        )
    return incident


@transaction.atomic
def incident_retry(*, incident: Incident, actor: User) -> None:
    """An administrator retries: mark it resolved and ask for routing again."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.resolved_at is not None:
        return
    incident.resolved_at = timezone.now()
    incident.save(update_fields=["resolved_at"])
    request_routing(application=incident.application)
    audit_record(
        action=AuditAction.INCIDENT_RETRY,
        actor=actor,
        target=incident.application,
        details={"incident": incident.pk},
    )


def sweep_routing(*, now: Any = None, batch: int = 200) -> int:
    """Route applications whose routing was requested and not done in time (lost wake-up call)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.ROUTING_SWEEP_AFTER_SECONDS)
    ids = list(
        Application.objects.filter(routing_requested_at__lte=cutoff)
        .order_by("routing_requested_at")
        .values_list("pk", flat=True)[:batch]
    )
    for application_id in ids:
        try:
            advance(application_id=application_id)
        except Exception:  # one broken application must not stop the sweep of the others
            logger.exception("sweeper: routing application %s failed", application_id)
    return len(ids)
