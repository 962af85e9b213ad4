"""Consultation: one case shared, read-only, with another department or one named official, for
a stated reason and until an optional end, with the fields they may see.

- `case_share`: the case's department (`change_case`) shares it; the consultee gets the
  `consult_case` object permission (their department's group, or the official in person);
- `case_share_revoke`: the case's department withdraws it at once;
- `case_opinion_add`: the consultee's opinion, shown on the case's timeline;
- `consultations_expire` (beat): ends the consultations past their end and those of closed cases.

`permissions.case_access` and `permissions.consulted_cases` already refuse an expired or revoked
consultation at read time; the sweep only removes the permission and records the end. Every act
records its audit event in its own transaction; the reason is sealed twice: in the row (free
text, bound to the row) and in the audit event's purpose under the application's data key, so
the citizen reads why on "who looked at my data" and erasure destroys it.
"""

from __future__ import annotations

import datetime as dt
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
from services.errors import InvalidInput

from . import permissions, selectors
from .actions import CaseError, CaseForbidden, _allowed, _as, _locked_case
from .constants import FINAL_CASE_STATES
from .models import Case, Consultation, Opinion

REASON_MIN, REASON_MAX, OPINION_MAX = 10, 2000, 5000
# How many consultations one sweep ends (the next run takes the rest).
EXPIRE_BATCH = 500


def _check_share(
    *,
    case: Case,
    department: Department | None,
    official: User | None,
    reason: str,
    fields: Any,
    expires_at: dt.datetime | None,
    now: dt.datetime,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if len(reason) < REASON_MIN:
        errors["reason"] = [_("Say why you share this case (at least 10 characters).")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("The reason is too long (at most 2000 characters).")]
    if not isinstance(fields, list | tuple) or not fields:
        errors["fields"] = [_("Choose the fields they may see.")]
    else:
        foreign = [str(f) for f in fields if not isinstance(f, str) or f not in case.fields]
        if foreign:
            errors["fields"] = [_("This case does not use: %(f)s.") % {"f": ", ".join(foreign)}]
    if (department is None) == (official is None):
        errors["consultee"] = [_("Choose either a department or one official, not both.")]
    elif department is not None:
        if department.pk == case.department_id:
            errors["department"] = [_("This case is already in that department.")]
        elif not department.active:
            errors["department"] = [_("That department is closed.")]
    elif official is not None:
        # A person: a department's system (a service account) gives no opinion.
        if not official.is_active or not official.is_portal_staff or official.is_service_account:
            errors["official"] = [_("Choose an active member of staff.")]
        elif official.pk == case.application.citizen_id:
            errors["official"] = [_("The applicant cannot be consulted on their own case.")]
        else:
            access = permissions.case_access(user=official, case=case, now=now)
            if permissions.VIEW in access.perms or access.portal_wide:
                errors["official"] = [_("This official already sees the whole case.")]
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = [_("The end must be in the future.")]
    return errors


def _already_open(
    case: Case, department: Department | None, official: User | None, now: dt.datetime
) -> bool:
    open_ = Consultation.objects.filter(case=case, ended_at__isnull=True, revoked_at__isnull=True)
    open_ = open_.exclude(expires_at__lte=now)
    if department is not None:
        return open_.filter(department=department).exists()
    return open_.filter(official=official).exists()


@transaction.atomic
def case_share(
    *,
    case: Case,
    actor: User,
    department: Department | None = None,
    official: User | None = None,
    reason: str,
    fields: list[str],
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Consultation:
    """Share the case, read-only, with another department or one official, for `reason`,
    showing only `fields` (a subset of the step's), until `expires_at` if given."""
    now = now or timezone.now()
    case = _locked_case(case)
    access = _allowed(actor, case)
    if case.status in FINAL_CASE_STATES:
        raise CaseError(_("This case is closed: it can no longer be shared."))
    if case.application.erased_at is not None:
        raise CaseError(_("The personal data of this application was erased."))
    reason = (reason or "").strip()
    errors = _check_share(
        case=case,
        department=department,
        official=official,
        reason=reason,
        fields=fields,
        expires_at=expires_at,
        now=now,
    )
    if errors:
        raise InvalidInput(_("The case cannot be shared."), errors=errors)
    if _already_open(case, department, official, now):
        raise CaseError(_("This case is already shared with them: withdraw that sharing first."))
    shared = [key for key in case.fields if key in set(fields)]
    # Sealed with the row's id as associated data, so the id must exist first.
    consultation = Consultation.objects.create(
        case=case,
        shared_by=actor,
        department=department,
        official=official,
        reason="",
        fields=shared,
        created_at=now,
        expires_at=expires_at,
    )
    consultation.reason = seal_text(reason, aad=consultation.sealed_text_aad("reason"))
    consultation.save(update_fields=["reason"])
    if department is not None:
        permissions.grant(codename=permissions.CONSULT, case=case, group=department.group)
    else:
        permissions.grant(codename=permissions.CONSULT, case=case, user=official)
    acted = _as(access)
    audit_record(
        action=AuditAction.CASE_SHARE,
        actor=actor,
        role=acted["role"],
        target=case,
        subject=case.application.citizen,
        department=case.department,
        # Sealed under the application's data key, which erasure destroys (audit/purposes.py).
        purpose=purpose_seal(
            scope=application_scope(case.application.reference), target=case, text=reason
        ),
        details={
            "consultation": consultation.pk,
            "consultee_department": department.slug if department is not None else None,
            "consultee_official": official.pk if official is not None else None,
            "fields": shared,
            "expires_at": expires_at.isoformat() if expires_at is not None else None,
            **acted["details"],
        },
    )
    return consultation


def _parse_end(value: str) -> tuple[dt.datetime | None, str]:
    """An end date typed in a form or sent to the API (a date: the end of that day in the
    portal's time zone; or a date and time), or why it is not one."""
    value = (value or "").strip()
    if not value:
        return None, ""
    try:
        if len(value) <= 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time(23, 59, 59))
        else:
            moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None, _("Enter a date such as 2026-12-31.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment, ""


def case_share_from_input(
    *,
    case: Case,
    actor: User,
    department: str = "",
    official: str = "",
    reason: str = "",
    fields: Any = None,
    expires_at: str = "",
    now: dt.datetime | None = None,
) -> Consultation:
    """`case_share` for what a form or the API sends: a department's slug or an official's
    email, and an end date as text. Unknown ones are refused (400) and change nothing."""
    errors: dict[str, list[str]] = {}
    found_department = found_official = None
    department, official = (department or "").strip(), (official or "").strip()
    if department and official:
        errors["consultee"] = [_("Choose either a department or one official, not both.")]
    elif department:
        found_department = Department.objects.filter(slug=department[:50]).first()
        if found_department is None:
            errors["department"] = [_("No such department.")]
    elif official:
        found_official = user_by_email(email=official[:254])
        if found_official is None:
            errors["official"] = [_("No such member of staff.")]
    else:
        errors["consultee"] = [_("Choose a department or an official to consult.")]
    end, problem = _parse_end(expires_at)
    if problem:
        errors["expires_at"] = [problem]
    if errors:
        # The actor is checked first: someone who may not share learns nothing from the input.
        _allowed(actor, case)
        raise InvalidInput(_("The case cannot be shared."), errors=errors)
    return case_share(
        case=case,
        actor=actor,
        department=found_department,
        official=found_official,
        reason=reason,
        fields=list(fields or []),
        expires_at=end,
        now=now,
    )


def _end_grant(consultation: Consultation) -> None:
    """Remove the consultee's `consult_case` on the case, unless another consultation of the
    same consultee on it is still in force."""
    others = Consultation.objects.filter(
        case_id=consultation.case_id, ended_at__isnull=True, revoked_at__isnull=True
    ).exclude(pk=consultation.pk)
    case = consultation.case
    if consultation.department_id is not None:
        if not others.filter(department_id=consultation.department_id).exists():
            group = consultation.department.group
            permissions.ungrant(codename=permissions.CONSULT, case=case, group=group)
    elif not others.filter(official_id=consultation.official_id).exists():
        permissions.ungrant(codename=permissions.CONSULT, case=case, user=consultation.official)


@transaction.atomic
def case_share_revoke(
    *, consultation: Consultation, actor: User, now: dt.datetime | None = None
) -> Consultation:
    """Withdraw a sharing at once: the consultee no longer sees the case."""
    now = now or timezone.now()
    case = _locked_case(consultation.case)
    access = _allowed(actor, case)
    consultation = (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("case", "department__group", "official")
        .get(pk=consultation.pk)
    )
    if consultation.ended_at is not None or consultation.revoked_at is not None:
        raise CaseError(_("This sharing has already ended."))
    consultation.revoked_at = consultation.ended_at = now
    consultation.revoked_by = actor
    consultation.save(update_fields=["revoked_at", "revoked_by", "ended_at"])
    _end_grant(consultation)
    acted = _as(access)
    audit_record(
        action=AuditAction.CASE_SHARE_REVOKE,
        actor=actor,
        role=acted["role"],
        target=case,
        subject=case.application.citizen,
        department=case.department,
        details={"consultation": consultation.pk, **acted["details"]},
    )
    return consultation


def consultee_department(access: permissions.CaseAccess) -> Department | None:
    """The department through which a consultee reads the case (None: consulted in person)."""
    for consultation in access.consultations:
        if consultation.department_id is not None:
            return consultation.department
    return None


@transaction.atomic
def case_opinion_add(
    *, case: Case, actor: User, text: str, now: dt.datetime | None = None
) -> Opinion:
    """A consultee's opinion on the case; the one thing a consultee writes."""
    now = now or timezone.now()
    case = _locked_case(case)
    access = permissions.case_access(user=actor, case=case, now=now)
    if permissions.CONSULT not in access.perms or not access.consultations:
        raise CaseForbidden(_("Only those consulted on this case can give an opinion on it."))
    if selectors.is_own_case(user=actor, case=case):
        raise CaseForbidden(
            _("This is your own application: a colleague of your department must handle it.")
        )
    if case.status in FINAL_CASE_STATES:
        raise CaseError(_("This case is already closed."))
    if case.application.erased_at is not None:
        raise CaseError(_("The personal data of this application was erased."))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("Write your opinion."), errors={"text": [_("Write your opinion.")]})
    if len(text) > OPINION_MAX:
        raise InvalidInput(
            _("The opinion is too long."), errors={"text": [_("At most 5000 characters.")]}
        )
    consultation = access.consultations[0]
    # Sealed with the row's id as associated data, so the id must exist first.
    opinion = Opinion.objects.create(
        consultation=consultation, case=case, author=actor, text="", created_at=now
    )
    opinion.text = seal_text(text, aad=opinion.sealed_text_aad("text"))
    opinion.save(update_fields=["text"])
    audit_record(
        action=AuditAction.CASE_OPINION,
        actor=actor,
        target=case,
        subject=case.application.citizen,
        department=consultee_department(access),
        details={"opinion": opinion.pk, "consultation": consultation.pk},
    )
    return opinion


def consultations_expire(*, now: dt.datetime | None = None, batch: int = EXPIRE_BATCH) -> int:
    """End the consultations past their end and the open ones of closed cases: remove the
    consultee's permission, record `case.share_expire` (by the portal). Returns how many."""
    now = now or timezone.now()
    due = (
        Consultation.objects.filter(ended_at__isnull=True, expires_at__lte=now)
        .values_list("pk", flat=True)
        .order_by("pk")[:batch]
    )
    closed = (
        Consultation.objects.filter(ended_at__isnull=True, case__status__in=FINAL_CASE_STATES)
        .values_list("pk", flat=True)
        .order_by("pk")[:batch]
    )
    ended = 0
    for pk in sorted(set(due) | set(closed)):
        ended += _expire_one(pk, now=now)
    return ended


@transaction.atomic
def _expire_one(pk: int, *, now: dt.datetime) -> int:
    consultation = (
        Consultation.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("case__application", "case__department", "department__group", "official")
        .filter(pk=pk, ended_at__isnull=True)
        .first()
    )
    if consultation is None:  # ended meanwhile, or being ended by another sweep
        return 0
    case = consultation.case
    expired = consultation.expires_at is not None and consultation.expires_at <= now
    if not expired and case.status not in FINAL_CASE_STATES:
        return 0
    consultation.ended_at = now
    consultation.save(update_fields=["ended_at"])
    _end_grant(consultation)
    audit_record(
        action=AuditAction.CASE_SHARE_EXPIRE,
        actor=None,
        target=case,
        subject=case.application.citizen,
        department=case.department,
        details={
            "consultation": consultation.pk,
            "why": "expired" if expired else "case_closed",
        },
    )
    return 1


def application_consultations_erase(*, cases: Any) -> int:
    """Empty the reasons and opinions of an application's consultations, in the caller's
    transaction (the application's erasure). Returns how many rows changed."""
    changed = Consultation.objects.filter(case__in=cases).exclude(reason="").update(reason="")
    changed += Opinion.objects.filter(case__in=cases).exclude(text="").update(text="")
    return changed
