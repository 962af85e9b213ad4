"""Reads of the workflow engine, scoped to who is asking.

Lists are filtered by a join on the asker's memberships (one SQL query, whatever the number of
cases), never by loading rows and checking them one by one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, DateTimeField, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.constants import Role
from accounts.models import Membership, User

from .constants import ACTIVE_CASE_STATES, CaseStatus
from .models import Case, WorkerHeartbeat

FAR_FUTURE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
NATIONAL_ID_RE = re.compile(r"^\d{17}[\dXx]$")


def small_int(value: str) -> int | None:
    """An id typed by a person: ASCII digits that fit a database integer, else None."""
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def heartbeat_last_seen() -> dt.datetime | None:
    return WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]


def cases_for_user(*, user: User) -> QuerySet[Case]:
    """Every case the user may see: their departments' (clerk, lead), all (supervisor, admin)."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    if user.primary_role in (Role.SUPERVISOR, Role.ADMIN):
        return Case.objects.all()
    departments = Membership.objects.filter(user=user, department__active=True).values(
        "department_id"
    )
    return Case.objects.filter(department_id__in=departments)


def case_for_user(*, user: User, reference: str) -> Case | None:
    """One case the user may see, or None (callers answer 404: references are not confirmed)."""
    return (
        cases_for_user(user=user)
        .select_related("application__citizen", "department", "version__service", "assignee")
        .filter(reference=reference)
        .first()
    )


@dataclass(frozen=True)
class InboxFilters:
    status: str = ""
    department: str = ""
    assignee: str = ""  # "me", "none", or a user id
    service: str = ""
    due: str = ""  # "soon" (within 2 days) or "breached"
    q: str = ""


def inbox(*, user: User, filters: InboxFilters, now: dt.datetime | None = None) -> QuerySet[Case]:
    """The filtered, due-date ordered inbox (without the status filter's effect on counts)."""
    now = now or timezone.now()
    cases = cases_for_user(user=user)
    if filters.department:
        cases = cases.filter(department__slug=filters.department)
    if filters.service:
        cases = cases.filter(version__service__slug=filters.service)
    if filters.assignee == "me":
        cases = cases.filter(assignee=user)
    elif filters.assignee == "none":
        cases = cases.filter(assignee__isnull=True)
    elif filters.assignee:
        assignee = small_int(filters.assignee)
        cases = cases.filter(assignee_id=assignee) if assignee is not None else cases.none()
    if filters.due == "soon":
        cases = cases.filter(due_at__lte=now + dt.timedelta(days=2), status__in=ACTIVE_CASE_STATES)
    elif filters.due == "breached":
        cases = cases.filter(breached_at__isnull=False, status__in=ACTIVE_CASE_STATES)
    query = filters.q.strip()
    if query:
        if NATIONAL_ID_RE.match(query):
            from services.answers import national_id_index

            # Exact match through the blind index: no row is decrypted to search.
            cases = cases.filter(application__national_id_index=national_id_index(query.upper()))
        else:
            reference = query.upper()
            cases = cases.filter(Q(reference=reference) | Q(application__reference=reference))
    return cases


def status_counts(cases: QuerySet[Case]) -> dict[str, int]:
    counts = {s: 0 for s in CaseStatus.values}
    for row in cases.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def _encode(due: dt.datetime, pk: int) -> str:
    raw = json.dumps([due.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        due, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk < 2**63:
            return None
        moment = dt.datetime.fromisoformat(due)
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)), pk
    except (ValueError, TypeError, OverflowError, binascii.Error):
        return None


def page_by_due_date(
    cases: QuerySet[Case], *, cursor: str = "", size: int = 50
) -> tuple[list[Case], str | None]:
    """Keyset pagination on (due date, id): constant cost per page at any depth."""
    ordered = cases.annotate(
        sort_due=Coalesce("due_at", Value(FAR_FUTURE, output_field=DateTimeField()))
    ).order_by("sort_due", "id")
    position = _decode(cursor) if cursor else None
    if position is not None:
        due, pk = position
        ordered = ordered.filter(Q(sort_due__gt=due) | Q(sort_due=due, id__gt=pk))
    rows = list(
        ordered.select_related("department", "version__service", "assignee", "application")[
            : size + 1
        ]
    )
    next_cursor = _encode(rows[size - 1].sort_due, rows[size - 1].pk) if len(rows) > size else None
    return rows[:size], next_cursor


def case_view(*, case: Case) -> dict[str, Any]:
    """What staff see of a case: its fields only, personal values masked, files by name."""
    from services.actions import application_answers
    from services.answers import is_sealed_field
    from services.constants import FieldType
    from services.masking import mask
    from services.selectors import dictionary

    catalogue = dictionary()
    answers = application_answers(case.application)
    attachments = {
        a.field_key: a for a in case.application.attachments.filter(field_key__in=case.fields)
    }
    rows, personal = [], []
    for key in case.fields:
        definition = catalogue.get(key)
        if definition is None:
            continue
        value = answers.get(key)
        sealed = is_sealed_field(definition)
        if definition.type == FieldType.FILE:
            attachment = attachments.get(key)
            shown = attachment.original_name if attachment else ""
        elif value is None:
            shown = ""
        elif sealed:
            shown = mask(definition, value)
        else:
            shown = value
        if sealed and value is not None:
            personal.append(key)
        rows.append(
            {
                "key": key,
                "label": definition.label_translated,
                "value": shown,
                "masked": sealed and value is not None and definition.type != FieldType.FILE,
                "sensitivity": definition.sensitivity,
                "file": attachments.get(key).token
                if definition.type == FieldType.FILE and key in attachments
                else None,
            }
        )
    return {"rows": rows, "personal_fields": personal}


def case_timeline(*, case: Case) -> list[dict[str, Any]]:
    """Decisions, questions, replies and internal notes, oldest first."""
    from audit.models import AuditEvent

    events = [
        {
            "at": e.occurred_at,
            "kind": e.action,
            "by": e.actor.email if e.actor else "system",
            "text": "",
        }
        for e in AuditEvent.objects.filter(target_type="workflows.case", target_ref=case.reference)
        .exclude(action__in=["pii.read"])
        .select_related("actor")
    ]
    for request in case.information_requests.select_related("asked_by"):
        events.append(
            {
                "at": request.asked_at,
                "kind": "question",
                "by": request.asked_by.email,
                "text": request.message,
            }
        )
        if request.replied_at:
            events.append(
                {"at": request.replied_at, "kind": "reply", "by": "citizen", "text": request.reply}
            )
    for note in case.notes.select_related("author"):
        events.append(
            {"at": note.created_at, "kind": "note", "by": note.author.email, "text": note.text}
        )
    return sorted(events, key=lambda e: e["at"])


def sibling_cases(*, case: Case) -> list[Case]:
    """The other departments' parts of the same application: status only."""
    return list(
        case.application.cases.exclude(pk=case.pk).select_related("department").order_by("id")
    )
