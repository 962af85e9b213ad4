"""The clerks' decisions on cases and the citizen's replies (the workbench, its API and the
citizen's pages call these): claim, release, assign, approve, reject, ask the citizen, notes,
reading and revealing personal data, and the erasure of an application's case texts.

Routing (`advance`, batches, the sweeper, incidents) is in `routing`; due dates and the SLA
scan in `deadlines`.

Over 400 lines: every act here locks the case the same way (`_locked_case`, in the order routing
takes the rows) and checks the actor the same way (`_allowed`, on the object permissions of
workflows.permissions); keeping them in one module keeps those two rules in one place.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, User
from accounts.selectors import user_by_email
from audit.actions import audit_record
from audit.constants import AuditAction
from audit.purposes import application_scope, purpose_seal
from privacy.freetext import seal_text
from services.actions import application_correct_answers, request_routing
from services.answers import is_sealed_field
from services.errors import InvalidInput, WrongState
from services.models import Application
from services.permissions import application_access
from services.selectors import application_answers, dictionary

from . import events as case_events
from . import permissions, selectors
from .constants import ACTIVE_CASE_STATES, FINAL_CASE_STATES, CaseStatus
from .models import Case, CaseNote, InformationRequest

# --- Case decisions (the workbench's actions call these) ---


class CaseError(WrongState):
    """A decision that the case's state does not allow (409)."""


class CaseForbidden(CaseError):
    """The actor may see the case but not act on it (a supervisor; a clerk doing a lead's act)."""

    status = 403


def _allowed(
    actor: User,
    case: Case,
    need: str = permissions.ACT,
    *,
    access: permissions.CaseAccess | None = None,
) -> permissions.CaseAccess:
    """The actor's access to the case (`access` when already checked), if it holds `need`
    (workflows.permissions): only those the case's object permissions allow act on it, and
    never on their own application (separation of duties)."""
    if access is None:
        access = permissions.case_access(user=actor, case=case)
    if need not in access.perms:
        if need == permissions.ASSIGN and access.can_act:
            raise CaseForbidden(_("Only a lead of the department can assign cases."))
        raise CaseForbidden(_("Only the staff of this case's department can act on it."))
    if selectors.is_own_case(user=actor, case=case):
        raise CaseForbidden(
            _("This is your own application: a colleague of your department must handle it.")
        )
    return access


def _as(access: permissions.CaseAccess) -> dict[str, Any]:
    """What an audit event records of the access an act used: the role, and on whose behalf
    when a delegation lent it."""
    on_behalf = access.on_behalf_of
    return {
        "role": access.department_role or None,
        "details": {"on_behalf_of": on_behalf.pk} if on_behalf is not None else {},
    }


def _record_as_acted(
    action: AuditAction,
    *,
    case: Case,
    actor: User,
    access: permissions.CaseAccess,
    details: dict,
    **event: Any,
) -> None:
    """A case's event by a member of its department, in person or for an absent colleague
    (the role and the delegation as `_as` gives them, after the event's own details)."""
    acted = _as(access)
    audit_record(
        action=action,
        actor=actor,
        role=acted["role"],
        target=case,
        subject=case.application.citizen,
        department=case.department,
        details={**details, **acted["details"]},
        **event,
    )


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
    *,
    case: Case,
    actor: User,
    access: permissions.CaseAccess,
    action: AuditAction,
    to: str,
    details: dict[str, Any],
) -> Case:
    previous = case.status
    case.status, case.updated_at = to, timezone.now()
    fields = ["status", "updated_at", "assignee", "decision_note", "decided_at"]
    case.save(update_fields=fields)
    if to in FINAL_CASE_STATES:
        permissions.revoke_on_close([case])
        case_events.emit(case_events.CASE_CLOSED, [case])
    else:
        case_events.emit(case_events.CASE_CHANGED, [case])
    _record_as_acted(
        action,
        case=case,
        actor=actor,
        access=access,
        details={"from": previous, "to": to, **details},
    )
    request_routing(application=case.application)
    return case


@transaction.atomic
def case_claim(*, case: Case, actor: User) -> Case:
    case = _locked_case(case)
    access = _allowed(actor, case)
    if case.status not in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS):
        raise CaseError(_("Only an open case can be claimed."))
    if case.assignee_id and case.assignee_id != actor.pk:
        raise CaseError(_("Someone else is working on this case."))
    if case.assignee_id == actor.pk and case.status == CaseStatus.IN_PROGRESS:
        # Claiming a case one already works on (a double click, a retried request) changes
        # nothing, so it records nothing: repeated claims must not flood the audit log.
        return case
    case.assignee = actor
    return _transition(
        case=case,
        actor=actor,
        access=access,
        action=AuditAction.CASE_CLAIM,
        to=CaseStatus.IN_PROGRESS,
        details={},
    )


def _someone_else(case: Case, actor: User, access: permissions.CaseAccess) -> bool:
    """The case is assigned to another member of staff, whom the actor does not cover for."""
    covering = access.on_behalf_of is not None and case.assignee_id == access.on_behalf_of.pk
    return bool(case.assignee_id) and case.assignee_id != actor.pk and not covering


def _decide(case: Case, actor: User) -> tuple[Case, permissions.CaseAccess]:
    case = _locked_case(case)
    access = _allowed(actor, case)
    if case.status == CaseStatus.PENDING:
        raise CaseError(_("This case waits for another department and cannot be decided yet."))
    if case.status not in ACTIVE_CASE_STATES:
        raise CaseError(_("This case is already closed."))
    if _someone_else(case, actor, access):
        raise CaseError(_("Someone else is working on this case."))
    return case, access


@transaction.atomic
def case_approve(*, case: Case, actor: User, note: str = "") -> Case:
    case, access = _decide(case, actor)
    if case.status == CaseStatus.AWAITING_CITIZEN:
        raise CaseError(_("This case waits for the citizen's answer."))
    case.assignee, case.decided_at = actor, timezone.now()
    case.decision_note = seal_text(note.strip(), aad=case.sealed_text_aad("decision_note"))
    return _transition(
        case=case,
        actor=actor,
        access=access,
        action=AuditAction.CASE_APPROVE,
        to=CaseStatus.APPROVED,
        details={},
    )


@transaction.atomic
def case_reject(*, case: Case, actor: User, reason: str) -> Case:
    if not reason or not reason.strip():
        raise CaseError(_("Give the reason for the rejection."))
    case, access = _decide(case, actor)
    case.assignee, case.decided_at = actor, timezone.now()
    case.decision_note = seal_text(reason.strip(), aad=case.sealed_text_aad("decision_note"))
    return _transition(
        case=case,
        actor=actor,
        access=access,
        action=AuditAction.CASE_REJECT,
        to=CaseStatus.REJECTED,
        details={},
    )


@transaction.atomic
def case_request_info(*, case: Case, actor: User, message: str) -> Case:
    if not message or not message.strip():
        raise CaseError(_("Write what you need from the citizen."))
    case, access = _decide(case, actor)
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
        access=access,
        action=AuditAction.CASE_REQUEST_INFO,
        to=CaseStatus.AWAITING_CITIZEN,
        details={},
    )


@transaction.atomic
def case_citizen_replied(
    *, case: Case, citizen: User, message: str = "", answers: dict[str, Any] | None = None
) -> Case:
    """The citizen answers the open question: a message and/or corrected answers of the fields
    this department sees. The case goes back to its clerk and the engine is asked to route.
    `citizen` is who replies: the applicant, or a representative holding `act_on_application`
    (`services.permissions`); the question records them (`replied_by`)."""
    case = _locked_case(case)
    application = case.application
    if not application_access(citizen, application).can_act:
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
        request.replied_by = citizen
        request.save(update_fields=["reply", "replied_at", "changed_fields", "replied_by"])
    case_events.emit(case_events.INFORMATION_ANSWERED, [case])
    representative = {} if citizen.pk == application.citizen_id else {"representative": citizen.pk}
    audit_record(
        action=AuditAction.CASE_CITIZEN_REPLY,
        actor=citizen,
        target=case,
        subject=application.citizen,
        department=case.department,
        details={"from": previous, "to": case.status, "fields": sorted(answers), **representative},
    )
    request_routing(application=case.application)
    return case


# --- Workbench: release, assign, notes, reading personal data -----------------------------


@transaction.atomic
def case_release(*, case: Case, actor: User) -> Case:
    """Give a claimed case back to the department's queue."""
    case = _locked_case(case)
    access = _allowed(actor, case)
    if case.status != CaseStatus.IN_PROGRESS:
        raise CaseError(_("Only a case in progress can be released."))
    if _someone_else(case, actor, access) or not case.assignee_id:
        raise CaseError(_("Only the clerk working on the case can release it."))
    case.assignee = None
    return _transition(
        case=case,
        actor=actor,
        access=access,
        action=AuditAction.CASE_RELEASE,
        to=CaseStatus.OPEN,
        details={},
    )


@transaction.atomic
def case_assign(*, case: Case, actor: User, assignee: User) -> Case:
    """A lead gives a case to a clerk of the same department (or takes it back)."""
    case = _locked_case(case)
    access = _allowed(actor, case, permissions.ASSIGN)
    if permissions.ACT not in permissions.granted(user=assignee, case=case):
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
    case_events.emit(case_events.CASE_CHANGED, [case])
    acted = _as(access)
    audit_record(
        action=AuditAction.CASE_ASSIGN,
        actor=actor,
        role="lead",
        target=case,
        subject=case.application.citizen,
        department=case.department,
        details={"assignee": assignee.pk, "previous_assignee": previous, **acted["details"]},
    )
    request_routing(application=case.application)
    return case


def case_assign_to_email(*, case: Case, actor: User, email: str) -> Case:
    """`case_assign` for a staff member named by email (the form and the API give an email)."""
    assignee = user_by_email(email=email or "", active=True)
    if assignee is None:
        raise InvalidInput(
            _("Choose a member of the department."),
            errors={"assignee": [_("No such staff member.")]},
        )
    return case_assign(case=case, actor=actor, assignee=assignee)


@transaction.atomic
def case_note_add(*, case: Case, actor: User, text: str) -> Any:
    case = _locked_case(case)
    access = _allowed(actor, case)
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
    acted = _as(access)
    audit_record(
        action=AuditAction.CASE_NOTE,
        actor=actor,
        role=acted["role"],
        target=case,
        department=case.department,
        details={"note": note.pk, **acted["details"]},
    )
    return note


def case_read(*, case: Case, user: User) -> dict:
    """The case as `user` may see it (`selectors.case_view`: the step's fields, masked, and
    the ones withheld), with the read of its personal fields recorded: the one place the
    workbench page and the cases API read a case."""
    view = selectors.case_view(case=case, user=user)
    case_read_record(case=case, actor=user, fields=view["personal_fields"])
    return view


@transaction.atomic
def case_read_record(*, case: Case, actor: User, fields: list[str]) -> None:
    """A staff member viewed the case's personal fields (masked): a `pii.read` event."""
    if not fields:
        return
    access = selectors.access_of(user=actor, case=case)
    department, consulted = _reader(case, access)
    audit_record(
        action=AuditAction.PII_READ,
        actor=actor,
        role=access.department_role or None,
        target=case,
        subject=case.application.citizen,
        department=department,
        details={"fields": sorted(fields), "masked": True, **consulted, **_as(access)["details"]},
    )


def _reader(case: Case, access: permissions.CaseAccess) -> tuple[Department | None, dict]:
    """The department a read of the case is recorded under, and what the audit's details add:
    a consultee reads as their own department (none when consulted in person), naming the
    consultations that let them."""
    if not access.is_consultee:
        return case.department, {}
    from .consultations import consultee_department

    return consultee_department(access), {"consultations": [c.pk for c in access.consultations]}


@transaction.atomic
def case_reveal(*, case: Case, actor: User, fields: list[str], purpose: str) -> dict[str, Any]:
    """Unmask personal values of the case's own fields for a stated purpose (`pii.reveal`):
    its department's staff (`change_case`), or a consultee for the fields shared with them."""
    case = _locked_case(case)
    access = permissions.case_access(user=actor, case=case)
    if not access.is_consultee or selectors.is_own_case(user=actor, case=case):
        access = _allowed(actor, case, access=access)  # the department's staff, or a refusal
    shown = access.fields if access.fields is not None else case.fields
    purpose = (purpose or "").strip()
    errors: dict[str, list[str]] = {}
    if len(purpose) < 10:
        errors["purpose"] = [_("Say why you need to see these values (at least 10 characters).")]
    if not isinstance(fields, list) or not fields:
        errors["fields"] = [_("Choose the fields to reveal.")]
    else:
        catalogue = dictionary()
        foreign = [f for f in fields if f not in shown]
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
    acted = _as(access)
    department, consulted = _reader(case, access)
    audit_record(
        action=AuditAction.PII_REVEAL,
        actor=actor,
        role=acted["role"],
        target=case,
        subject=case.application.citizen,
        department=department,
        # Sealed under the application's data key, which erasure destroys (audit/purposes.py).
        purpose=purpose_seal(
            scope=application_scope(case.application.reference), target=case, text=purpose
        ),
        details={"fields": sorted(set(fields)), **acted["details"], **consulted},
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
    roles = actor.department_roles
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
    from .consultations import application_consultations_erase

    return changed + application_consultations_erase(cases=cases)
