"""Writes of the workflow engine: `advance` (the only writer of routing) and case decisions.

`advance` is the imperative shell around `engine.plan`: it locks the application row, computes
the plan from the rows, applies it idempotently (one case per step, by a unique constraint),
grants the department's group its object permissions, and writes audit events. Running it
twice, or from two workers at once, gives the same result: the second run finds nothing to do.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import traceback as tb
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from accounts.models import Department, Membership, User
from audit.actions import audit_record, audit_record_many
from audit.constants import AuditAction
from audit.purposes import application_scope, purpose_seal
from core.context import bind_context, current_context, reset_context
from privacy.freetext import seal_text
from services import catalog
from services.actions import (
    InvalidInput,
    WrongState,
    application_answers,
    application_correct_answers,
    request_routing,
)
from services.answers import is_sealed_field
from services.constants import ApplicationStatus
from services.models import Application
from services.selectors import dictionary

from . import selectors
from .calendar import add_business_days
from .constants import ACTIVE_CASE_STATES, FINAL_CASE_STATES, CaseStatus
from .engine import Plan, plan, steps_of
from .models import (
    Case,
    CaseGroupObjectPermission,
    CaseNote,
    Incident,
    InformationRequest,
    WorkerHeartbeat,
)

logger = logging.getLogger(__name__)

CASE_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CASE_PERMISSIONS = ("workflows.view_case", "workflows.change_case")


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


def _case_reference() -> str:
    body = "".join(secrets.choice(CASE_REFERENCE_ALPHABET) for _ in range(8))
    return f"C-{body[:4]}-{body[4:]}"


def _open(case: Case, now) -> None:
    case.status = CaseStatus.OPEN
    case.opened_at = now
    case.due_at = add_business_days(now, case.sla_days)


def _pause_for_tests() -> None:
    """Reliability tests kill a routing process here, mid-transaction (off unless configured)."""
    seconds = getattr(settings, "ROUTING_TEST_PAUSE_SECONDS", 0)
    if seconds:
        import time
        from pathlib import Path

        Path(settings.ROUTING_TEST_PAUSE_MARKER).write_text(str(os.getpid()))
        time.sleep(seconds)


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
            reference=_case_reference(),
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
            _open(case, now)
        else:
            case.status = status
        created.append((application, key, case))
    changed = []
    for key, status in sorted(result.transition.items()):
        case = cases[key]
        previous = case.status
        if status == CaseStatus.OPEN:
            _open(case, now)
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
    _grant_department(case for _a, _key, case in created)
    if changed:
        Case.objects.bulk_update(
            [case for _a, _p, case in changed],
            ["status", "opened_at", "due_at", "decided_at", "updated_at"],
        )
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
    _pause_for_tests()
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


def _grant_department(cases: Iterable[Case]) -> None:
    """Give each new case's department group its CASE_PERMISSIONS on the case (guardian's direct
    foreign key table), in one statement that also looks the permissions up."""
    pairs = [(case.pk, case.department.group_id) for case in cases]
    if not pairs:
        return
    codenames = [p.split(".", 1)[1] for p in CASE_PERMISSIONS]
    grants = CaseGroupObjectPermission._meta.db_table
    # Rows as UNION ALL, which PostgreSQL and SQLite both read (SQLite cannot name VALUES columns).
    rows = " UNION ALL ".join(["SELECT %s AS case_id, %s AS group_id"] * len(pairs))
    marks = ", ".join(["%s"] * len(codenames))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {grants} (permission_id, group_id, content_object_id) "  # noqa: S608
            "SELECT p.id, v.group_id, v.case_id FROM auth_permission AS p "
            "JOIN django_content_type AS t ON t.id = p.content_type_id "
            f"CROSS JOIN ({rows}) AS v "
            f"WHERE t.app_label = 'workflows' AND t.model = 'case' AND p.codename IN ({marks}) "
            "ON CONFLICT DO NOTHING",
            [x for pair in pairs for x in pair] + codenames,
        )
        # New cases have no grants yet, so fewer rows means a permission does not exist.
        if cursor.rowcount != len(pairs) * len(codenames):
            raise RuntimeError("the case permissions are missing: run migrate")


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


# --- Case decisions (the workbench's actions call these) ---


class CaseError(WrongState):
    """A decision that the case's state does not allow (409)."""


class CaseForbidden(CaseError):
    """The actor may see the case but not act on it (a supervisor; a clerk doing a lead's act)."""

    status = 403


def _member(actor: User, case: Case) -> Membership:
    """The actor's membership of the case's department: only its staff act on a case, and never
    on their own application (separation of duties)."""
    membership = Membership.objects.filter(
        user=actor, department_id=case.department_id, department__active=True
    ).first()
    if membership is None:
        raise CaseForbidden(_("Only the staff of this case's department can act on it."))
    if selectors.is_own_case(user=actor, case=case):
        raise CaseForbidden(
            _("This is your own application: a colleague of your department must handle it.")
        )
    return membership


def _locked_case(case: Case) -> Case:
    """Lock the case's application, then the case, and nothing else. Routing takes application
    rows first and then their cases, so a decision takes them in the same order (a decision
    holding its case while waiting for the application, under a routing batch holding the
    application and moving that case, would deadlock). Departments and versions are read, not
    locked: every case of a department shares them."""
    Application.objects.select_for_update(of=("self",)).filter(pk=case.application_id).exists()
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("application", "department", "version__service")
        .get(pk=case.pk)
    )


def _transition(
    *, case: Case, actor: User, action: AuditAction, to: str, details: dict[str, Any]
) -> Case:
    previous = case.status
    case.status, case.updated_at = to, timezone.now()
    fields = ["status", "updated_at", "assignee", "decision_note", "decided_at"]
    case.save(update_fields=fields)
    role = _member(actor, case).role
    audit_record(
        action=action,
        actor=actor,
        role=role,
        target=case,
        subject=case.application.citizen,
        department=case.department,
        details={"from": previous, "to": to, **details},
    )
    request_routing(application=case.application)
    return case


@transaction.atomic
def case_claim(*, case: Case, actor: User) -> Case:
    case = _locked_case(case)
    _member(actor, case)
    if case.status not in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS):
        raise CaseError(_("Only an open case can be claimed."))
    if case.assignee_id and case.assignee_id != actor.pk:
        raise CaseError(_("Someone else is working on this case."))
    if case.assignee_id == actor.pk and case.status == CaseStatus.IN_PROGRESS:
        # Claiming a case one already works on (a double click, a retried request) changes
        # nothing, so it records nothing: repeated claims must not flood the audit log.
        return case
    case.assignee = actor
    assign_perm("workflows.change_case", actor, case)
    return _transition(
        case=case, actor=actor, action=AuditAction.CASE_CLAIM, to=CaseStatus.IN_PROGRESS, details={}
    )


def _decide(case: Case, actor: User) -> Case:
    case = _locked_case(case)
    _member(actor, case)
    if case.status == CaseStatus.PENDING:
        raise CaseError(_("This case waits for another department and cannot be decided yet."))
    if case.status not in ACTIVE_CASE_STATES:
        raise CaseError(_("This case is already closed."))
    if case.assignee_id and case.assignee_id != actor.pk:
        raise CaseError(_("Someone else is working on this case."))
    return case


@transaction.atomic
def case_approve(*, case: Case, actor: User, note: str = "") -> Case:
    case = _decide(case, actor)
    if case.status == CaseStatus.AWAITING_CITIZEN:
        raise CaseError(_("This case waits for the citizen's answer."))
    case.assignee, case.decided_at = actor, timezone.now()
    case.decision_note = seal_text(note.strip(), aad=case.sealed_text_aad("decision_note"))
    return _transition(
        case=case, actor=actor, action=AuditAction.CASE_APPROVE, to=CaseStatus.APPROVED, details={}
    )


@transaction.atomic
def case_reject(*, case: Case, actor: User, reason: str) -> Case:
    if not reason or not reason.strip():
        raise CaseError(_("Give the reason for the rejection."))
    case = _decide(case, actor)
    case.assignee, case.decided_at = actor, timezone.now()
    case.decision_note = seal_text(reason.strip(), aad=case.sealed_text_aad("decision_note"))
    return _transition(
        case=case, actor=actor, action=AuditAction.CASE_REJECT, to=CaseStatus.REJECTED, details={}
    )


@transaction.atomic
def case_request_info(*, case: Case, actor: User, message: str) -> Case:
    if not message or not message.strip():
        raise CaseError(_("Write what you need from the citizen."))
    case = _decide(case, actor)
    if case.status == CaseStatus.AWAITING_CITIZEN:
        raise CaseError(_("This case already waits for the citizen's answer."))
    case.assignee = actor
    # Sealed with the row's id as associated data, so the id must exist first.
    request = InformationRequest.objects.create(case=case, asked_by=actor, message="")
    request.message = seal_text(message.strip(), aad=request.sealed_text_aad("message"))
    request.save(update_fields=["message"])
    return _transition(
        case=case,
        actor=actor,
        action=AuditAction.CASE_REQUEST_INFO,
        to=CaseStatus.AWAITING_CITIZEN,
        details={},
    )


@transaction.atomic
def case_citizen_replied(
    *, case: Case, citizen: User, message: str = "", answers: dict[str, Any] | None = None
) -> Case:
    """The citizen answers the open question: a message and/or corrected answers of the fields
    this department sees. The case goes back to its clerk and the engine is asked to route."""
    case = _locked_case(case)
    if case.application.citizen_id != citizen.pk:
        raise CaseError(_("This is not your application."))
    if case.status != CaseStatus.AWAITING_CITIZEN:
        raise CaseError(_("This department is not waiting for an answer from you."))
    request = case.information_requests.filter(replied_at__isnull=True).first()
    answers = answers or {}
    message = (message or "").strip()
    if not message and not answers:
        raise InvalidInput(
            _("Write an answer or correct an answer."), errors={"message": [_("Write an answer.")]}
        )
    if len(message) > 5000:
        raise InvalidInput(
            _("The answer is too long."), errors={"message": [_("At most 5000 characters.")]}
        )
    if answers:
        not_asked = [k for k in answers if k not in case.fields]
        if not_asked:
            raise InvalidInput(
                _("Only the answers this department sees can be changed here."),
                errors={k: [_("This department does not use this answer.")] for k in not_asked},
            )
        application_correct_answers(application=case.application, actor=citizen, answers=answers)
    previous = case.status
    case.status = CaseStatus.IN_PROGRESS if case.assignee_id else CaseStatus.OPEN
    case.updated_at = timezone.now()
    case.save(update_fields=["status", "updated_at"])
    if request is not None:
        request.reply = seal_text(message, aad=request.sealed_text_aad("reply"))
        request.replied_at = timezone.now()
        request.changed_fields = sorted(answers)
        request.save(update_fields=["reply", "replied_at", "changed_fields"])
    audit_record(
        action=AuditAction.CASE_CITIZEN_REPLY,
        actor=citizen,
        target=case,
        subject=citizen,
        department=case.department,
        details={"from": previous, "to": case.status, "fields": sorted(answers)},
    )
    request_routing(application=case.application)
    return case


# --- Deadlines ---


def sla_scan(*, now: Any = None, batch: int = 500) -> dict[str, int]:
    """Remind before the due date and escalate once after it.

    Rows are taken with SKIP LOCKED and marked in the same transaction, so overlapping scans
    (two beats by mistake, a slow scan) never notify twice; a marked case is never picked again.
    """
    from datetime import timedelta

    from .tasks import notify_case_breached, notify_case_reminder

    now = now or timezone.now()
    soon = now + timedelta(hours=settings.SLA_REMINDER_HOURS)
    running = [CaseStatus.OPEN, CaseStatus.IN_PROGRESS]  # the clock stops while the citizen answers
    counts = {"reminded": 0, "breached": 0}
    with transaction.atomic():
        # Only the case rows are locked: holding their applications would make routing skip
        # them (SKIP LOCKED) until the sweeper, and departments are shared by every decision.
        breached = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=running, breached_at__isnull=True, due_at__lte=now)
            .select_related("department", "application__citizen")
            .order_by("due_at")[:batch]
        )
        for case in breached:
            case.breached_at = now
            case.save(update_fields=["breached_at"])
            audit_record(
                action=AuditAction.CASE_BREACH,
                actor=None,
                target=case,
                department=case.department,
                subject=case.application.citizen,
                details={"due_at": case.due_at.isoformat()},
            )
            transaction.on_commit(lambda pk=case.pk: notify_case_breached.delay(pk), robust=True)
        due_soon = list(
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=running, reminded_at__isnull=True, due_at__gt=now, due_at__lte=soon)
            .select_related("department", "application__citizen")
            .order_by("due_at")[:batch]
        )
        for case in due_soon:
            case.reminded_at = now
            case.save(update_fields=["reminded_at"])
            audit_record(
                action=AuditAction.CASE_REMINDER,
                actor=None,
                target=case,
                department=case.department,
                subject=case.application.citizen,
                details={"due_at": case.due_at.isoformat()},
            )
            transaction.on_commit(lambda pk=case.pk: notify_case_reminder.delay(pk), robust=True)
    counts["breached"], counts["reminded"] = len(breached), len(due_soon)
    return counts


def sweep_routing(*, now: Any = None, batch: int = 200) -> int:
    """Route applications whose routing was requested and not done in time (lost wake-up call)."""
    from datetime import timedelta

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


# --- Workbench: release, assign, notes, reading personal data -----------------------------


@transaction.atomic
def case_release(*, case: Case, actor: User) -> Case:
    """Give a claimed case back to the department's queue."""
    case = _locked_case(case)
    _member(actor, case)
    if case.status != CaseStatus.IN_PROGRESS:
        raise CaseError(_("Only a case in progress can be released."))
    if case.assignee_id != actor.pk:
        raise CaseError(_("Only the clerk working on the case can release it."))
    case.assignee = None
    return _transition(
        case=case, actor=actor, action=AuditAction.CASE_RELEASE, to=CaseStatus.OPEN, details={}
    )


@transaction.atomic
def case_assign(*, case: Case, actor: User, assignee: User) -> Case:
    """A lead gives a case to a clerk of the same department (or takes it back)."""
    case = _locked_case(case)
    if _member(actor, case).role != "lead":
        raise CaseForbidden(_("Only a lead of the department can assign cases."))
    if not Membership.objects.filter(user=assignee, department_id=case.department_id).exists():
        raise InvalidInput(
            _("Assign to a member of this department."), errors={"assignee": [_("Not a member.")]}
        )
    if selectors.is_own_case(user=assignee, case=case):
        raise CaseForbidden(
            _("Nobody can work on their own application: assign it to another member of staff.")
        )
    if case.status not in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_CITIZEN):
        raise CaseError(_("Only an open case can be assigned."))
    previous = case.assignee_id
    case.assignee = assignee
    case.updated_at = timezone.now()
    to = CaseStatus.IN_PROGRESS if case.status == CaseStatus.OPEN else case.status
    case.status = to
    case.save(update_fields=["assignee", "status", "updated_at"])
    assign_perm("workflows.change_case", assignee, case)
    audit_record(
        action=AuditAction.CASE_ASSIGN,
        actor=actor,
        role="lead",
        target=case,
        subject=case.application.citizen,
        department=case.department,
        details={"assignee": assignee.pk, "previous_assignee": previous},
    )
    request_routing(application=case.application)
    return case


def case_assign_to_email(*, case: Case, actor: User, email: str) -> Case:
    """`case_assign` for a staff member named by email (the form and the API give an email)."""
    assignee = User.objects.filter(email__iexact=(email or "").strip(), is_active=True).first()
    if assignee is None:
        raise InvalidInput(
            _("Choose a member of the department."),
            errors={"assignee": [_("No such staff member.")]},
        )
    return case_assign(case=case, actor=actor, assignee=assignee)


@transaction.atomic
def case_note_add(*, case: Case, actor: User, text: str) -> Any:
    case = _locked_case(case)
    membership = _member(actor, case)
    if case.application.erased_at is not None:  # erasure emptied the notes; none comes back
        raise CaseError(_("The personal data of this application was erased."))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write the note."), errors={"text": [_("Write the note.")]})
    if len(text) > 5000:
        raise InvalidInput(
            _("The note is too long."), errors={"text": [_("At most 5000 characters.")]}
        )
    # Sealed with the row's id as associated data, so the id must exist first.
    note = CaseNote.objects.create(case=case, author=actor, text="")
    note.text = seal_text(text, aad=note.sealed_text_aad("text"))
    note.save(update_fields=["text"])
    audit_record(
        action=AuditAction.CASE_NOTE,
        actor=actor,
        role=membership.role,
        target=case,
        department=case.department,
        details={"note": note.pk},
    )
    return note


@transaction.atomic
def case_read_record(*, case: Case, actor: User, fields: list[str]) -> None:
    """A staff member viewed the case's personal fields (masked): a `pii.read` event."""
    if not fields:
        return
    membership = Membership.objects.filter(user=actor, department_id=case.department_id).first()
    audit_record(
        action=AuditAction.PII_READ,
        actor=actor,
        role=membership.role if membership else None,
        target=case,
        subject=case.application.citizen,
        department=case.department,
        details={"fields": sorted(fields), "masked": True},
    )


@transaction.atomic
def case_reveal(*, case: Case, actor: User, fields: list[str], purpose: str) -> dict[str, Any]:
    """Unmask personal values of the case's own fields for a stated purpose (`pii.reveal`)."""
    case = _locked_case(case)
    membership = _member(actor, case)
    purpose = (purpose or "").strip()
    errors: dict[str, list[str]] = {}
    if len(purpose) < 10:
        errors["purpose"] = [_("Say why you need to see these values (at least 10 characters).")]
    if not isinstance(fields, list) or not fields:
        errors["fields"] = [_("Choose the fields to reveal.")]
    else:
        catalogue = dictionary()
        foreign = [f for f in fields if f not in case.fields]
        if foreign:
            errors["fields"] = [
                _("This case does not use: %(f)s.") % {"f": ", ".join(map(str, foreign))}
            ]
        elif not all(f in catalogue and is_sealed_field(catalogue[f]) for f in fields):
            errors["fields"] = [_("Only personal values are masked.")]
    withheld = selectors.values_withheld(user=actor, case=case)
    if withheld:  # the step has not opened: nothing to reveal yet, whatever was asked
        raise CaseError(withheld)
    if errors:
        raise InvalidInput(_("The values cannot be revealed."), errors=errors)
    if case.status == CaseStatus.CANCELLED:
        raise CaseError(_("This case was cancelled."))
    if case.application.erased_at is not None:
        raise CaseError(_("The personal data of this application was erased."))
    answers = application_answers(case.application)
    audit_record(
        action=AuditAction.PII_REVEAL,
        actor=actor,
        role=membership.role,
        target=case,
        subject=case.application.citizen,
        department=case.department,
        # Sealed under the application's data key, which erasure destroys (audit/purposes.py).
        purpose=purpose_seal(
            scope=application_scope(case.application.reference), target=case, text=purpose
        ),
        details={"fields": sorted(set(fields))},
    )
    return {f: answers.get(f) for f in fields}


@transaction.atomic
def case_search_record(*, actor: User, cases: list[Case]) -> list[Any]:
    """A staff member looked cases up by a national ID: one `pii.search` event per application
    found and department searched in (the citizen sees it on "who looked at my data"; it is part
    of the application's history), or one without a subject when nothing matched. The number
    itself is never recorded. A citizen (who finds no case) records nothing."""
    if not actor.is_portal_staff:
        return []
    roles = dict(
        Membership.objects.filter(user=actor, department__active=True).values_list(
            "department_id", "role"
        )
    )
    found: dict[tuple[int, int | None], list[Case]] = {}
    for case in cases:
        mine = case.department_id if case.department_id in roles else None
        found.setdefault((case.application_id, mine), []).append(case)
    fields = [selectors.APPLICANT_NATIONAL_ID]
    if not found:
        only = next(iter(roles)) if len(roles) == 1 else None
        return [
            audit_record(
                action=AuditAction.PII_SEARCH,
                actor=actor,
                role=roles.get(only) if only else None,
                department=Department.objects.filter(pk=only).first() if only else None,
                details={"fields": fields, "matches": 0},
            )
        ]
    return [
        audit_record(
            action=AuditAction.PII_SEARCH,
            actor=actor,
            role=roles.get(department_id) if department_id else None,
            target=group[0].application,
            subject=group[0].application.citizen,
            department=group[0].department if department_id else None,
            details={
                "fields": fields,
                "matches": len(group),
                "cases": [c.reference for c in group],
                "application": group[0].application.reference,
            },
        )
        for (_application, department_id), group in found.items()
    ]


def application_cases_erase(*, application: Application) -> int:
    """Empty every free text on an application's cases, in the caller's transaction (the
    application's erasure, which records the event). Returns how many rows changed."""
    cases = Case.objects.filter(application=application)
    changed = cases.exclude(decision_note="").update(decision_note="")
    changed += (
        InformationRequest.objects.filter(case__in=cases)
        .exclude(message="", reply="")
        .update(message="", reply="")
    )
    changed += CaseNote.objects.filter(case__in=cases).exclude(text="").update(text="")
    return changed
