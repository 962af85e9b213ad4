"""Reads of the workflow engine, scoped to who is asking.

Lists are filtered by a join on the object permissions of the asker's groups
(workflows.permissions: one SQL query, whatever the number of cases), never by loading rows and
checking them one by one.

Over 400 lines: every read of a case that depends on who is asking is here, so that no view
builds a permission filter of its own; the inbox (filters, search, counts, pages by due date)
and the case page (fields shown, timeline, consultations) share its scoping.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, Count, F, Max, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from accounts.models import Department, User
from audit.constants import event_name
from audit.models import AuditEvent
from audit.presenters import BehalfReader
from services import catalog
from services.answers import APPLICANT_NATIONAL_ID, is_sealed_field, national_id_index
from services.fields import kind_for
from services.models import Application
from services.selectors import application_answers, dictionary, field_labels

from . import delegation, permissions
from .constants import ACTIVE_CASE_STATES, FINAL_CASE_STATES, CaseStatus
from .models import Case, Consultation, InformationRequest, WorkerHeartbeat

FAR_FUTURE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def small_int(value: str) -> int | None:
    """An id typed by a person: ASCII digits that fit a database integer, else None."""
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def heartbeat_last_seen() -> dt.datetime | None:
    return WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]


def cases_for_user(*, user: User) -> QuerySet[Case]:
    """Every case the user may read in full (workflows.permissions.visible_cases): the inbox."""
    return permissions.visible_cases(user=user)


def case_for_user(*, user: User, reference: str) -> Case | None:
    """One case the user may see (in full, or the fields a consultation shares), or None
    (callers answer 404: references are not confirmed). The answer of the one check,
    `permissions.case_access`, stays on the case as `case.access`."""
    if not user.is_authenticated or not isinstance(reference, str) or len(reference) > 20:
        return None
    case = (
        Case.objects.select_related(
            "application__citizen", "department", "version__service", "assignee"
        )
        .filter(reference=reference)
        .first()
    )
    if case is None:
        return None
    access = permissions.case_access(user=user, case=case)
    if not access.can_view:
        return None
    case.access = access
    return case


def access_of(*, user: User, case: Case) -> permissions.CaseAccess:
    """The case's access for this user: the one `case_for_user` found, else checked now."""
    access = getattr(case, "access", None)
    return access if access is not None else permissions.case_access(user=user, case=case)


@dataclass(frozen=True)
class InboxFilters:
    status: str = ""
    department: str = ""
    assignee: str = ""  # "me", "none", "delegated" (the colleagues one covers for), or a user id
    service: str = ""
    due: str = ""  # "soon" (within 2 days) or "breached"
    q: str = ""  # a case or application reference (national IDs: `cases_by_national_id`)
    case_ids: tuple[int, ...] | None = None  # the result of a national-ID search


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
    elif filters.assignee == "delegated":
        cases = cases.filter(delegation.covered(user=user, now=now))
    elif filters.assignee:
        assignee = small_int(filters.assignee)
        cases = cases.filter(assignee_id=assignee) if assignee is not None else cases.none()
    if filters.due == "soon":
        cases = cases.filter(due_at__lte=now + dt.timedelta(days=2), status__in=ACTIVE_CASE_STATES)
    elif filters.due == "breached":
        cases = cases.filter(breached_at__isnull=False, status__in=ACTIVE_CASE_STATES)
    if filters.case_ids is not None:
        cases = cases.filter(pk__in=filters.case_ids)
    query = filters.q.strip()
    if query:
        # References only: a national ID in a query string would land in access logs, browser
        # history and referrers, so it is searched by POST (`cases_by_national_id`).
        reference = query.upper()
        cases = cases.filter(Q(reference=reference) | Q(application__reference=reference))
    return cases


# 18-character resident identity numbers anywhere in a value, and the old 15-digit ones.
NATIONAL_ID_INSIDE_RE = re.compile(r"\d{17}[\dXx]|\d{15}")


def looks_like_national_id(value: str) -> bool:
    """The value holds something shaped like a national ID (the checksum is not checked: a
    mistyped number is still personal data)."""
    return bool(NATIONAL_ID_INSIDE_RE.search(value or ""))


SEARCH_LIMIT = 200


def cases_by_national_id(*, user: User, national_id: str) -> list[Case]:
    """The cases of the applicant with this national ID that the user may see and needs to
    find this way: matched exactly through the blind index (no row is decrypted), and only cases
    whose step has opened and uses the national ID, so a search never confirms a value the
    department would not be shown. At most `SEARCH_LIMIT`, by due date."""
    index = national_id_index((national_id or "").strip().upper())
    if not index:
        return []
    rows = (
        cases_for_user(user=user)
        .filter(application__national_id_index=index, opened_at__isnull=False)
        .exclude(status=CaseStatus.PENDING)
        .select_related("application", "department", "version__service", "assignee")
        .defer("application__answers", "version__fields", "version__workflow")
        .order_by(F("due_at").asc(nulls_last=True), "id")[:SEARCH_LIMIT]
    )
    return with_step_names([case for case in rows if APPLICANT_NATIONAL_ID in case.fields])


COUNT_LIMIT = 1000
# Decided cases are history: a tab's "100+" tells a clerk all they need, and every case counted
# costs one probe of the grant table (workflows.permissions), so they stop sooner.
DECIDED_COUNT_LIMIT = 100


def count_limits() -> dict[str, int]:
    """How far each status is counted: a count equal to its limit means that many or more."""
    return {
        status: DECIDED_COUNT_LIMIT if status in FINAL_CASE_STATES else COUNT_LIMIT
        for status in CaseStatus.values
    }


def status_counts(cases: QuerySet[Case], *, limits: dict[str, int] | None = None) -> dict[str, int]:
    """Cases per status, each counted up to its limit (`count_limits()` unless given; a count
    equal to it means "that many or more"). Decided cases pile up for years; an exact count of
    them would make every inbox page cost in proportion to the department's history. One
    query: per status, an index range read that stops at the limit."""
    limits = limits or count_limits()
    if connection.vendor != "postgresql":  # the embedded SQLite database is small: count all
        counts = {s: 0 for s in CaseStatus.values}
        for row in cases.order_by().values("status").annotate(n=Count("id")):
            counts[row["status"]] = min(row["n"], limits[row["status"]])
        return counts
    try:
        rows_sql, params = cases.order_by().values("status").query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing (cases.none())
        return {s: 0 for s in CaseStatus.values}
    sql = (
        "SELECT s.status, (SELECT count(*) FROM (SELECT 1 FROM ("  # noqa: S608 (ORM SQL)
        f"{rows_sql}) AS c WHERE c.status = s.status LIMIT s.most) AS t) "
        "FROM unnest(%s::varchar[], %s::int[]) AS s(status, most)"
    )
    statuses = list(CaseStatus.values)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, statuses, [limits[s] for s in statuses]])
        return dict(cursor.fetchall())


def _encode(due: dt.datetime, pk: int) -> str:
    raw = json.dumps([due.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        due, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk < 2**63:
            return None
        moment = dt.datetime.fromisoformat(due)
        # In UTC here: a moment at the very edge of the calendar overflows when converted, and
        # must do so inside this `try`, not in the database adapter.
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC), pk
    except (ValueError, TypeError, OverflowError, binascii.Error):
        return None


# Large JSON columns a list of cases never shows (the application is shown by its reference,
# the service by its slug): decoding them for 50 rows took as long as the page query.
LIST_DEFERRED = ("fields", "application__answers", "version__fields", "version__workflow")


def page_by_due_date(
    cases: QuerySet[Case], *, cursor: str = "", size: int = 50
) -> tuple[list[Case], str | None]:
    """Keyset pagination on (due date, id), cases without a due date last.

    Ordered on the columns themselves (not on an expression), so PostgreSQL reads the first
    rows of an index on (department, due_at, id) and stops, whatever the number of cases."""
    ordered = (
        cases.order_by(F("due_at").asc(nulls_last=True), "id")
        .select_related("department", "version__service", "assignee", "application")
        .defer(*LIST_DEFERRED)
    )
    undated = ordered.filter(due_at__isnull=True)
    position = _decode(cursor) if cursor else None
    if position is None:
        rows = list(ordered[: size + 1])
    elif position[0] >= FAR_FUTURE:  # the cursor stands among the cases without a due date
        rows = list(undated.filter(id__gt=position[1])[: size + 1])
    else:
        # A row comparison is an index range: the page starts where the cursor points.
        after = RawSQL(
            '("workflows_case"."due_at", "workflows_case"."id") > (%s, %s)',
            # As the database stores it (SQLite compares the text of a UTC time).
            (connection.ops.adapt_datetimefield_value(position[0]), position[1]),
            output_field=BooleanField(),
        )
        rows = list(ordered.filter(after)[: size + 1])
        if len(rows) <= size:  # the dated cases ran out on this page: undated ones follow
            rows += list(undated[: size + 1 - len(rows)])
    with_step_names(rows)
    if len(rows) <= size:
        return rows, None
    last = rows[size - 1]
    return rows[:size], _encode(last.due_at or FAR_FUTURE, last.pk)


def with_step_names(cases: list[Case]) -> list[Case]:
    """Give listed cases (whose versions' workflows are deferred) the steps their translated
    names come from (`Case.step_name_translated`), from the catalog kept by the process
    (`services.catalog`: read again whenever the catalog stamp changes)."""
    ids = sorted({c.version_id for c in cases})
    if ids:
        workflows = {v.pk: v.workflow for v in catalog.current().versions(ids)}
        for case in cases:
            case.workflow_steps = (workflows.get(case.version_id) or {}).get("steps", [])
    return cases


def is_own_case(*, user: User, case: Case) -> bool:
    """The case belongs to the user's own application (separation of duties)."""
    return bool(user.is_authenticated and case.application.citizen_id == user.pk)


def values_withheld(*, user: User, case: Case) -> str:
    """Why this user is not shown the citizen's values of this case (answers, masked or not,
    reveals, files), or "" when they are. A step that has not opened yet has no need to know;
    staff do not read their own application through the workbench."""
    if is_own_case(user=user, case=case):
        return _(
            "This is your own application: a colleague handles it. You see your answers on "
            "your application's page."
        )
    if case.status == CaseStatus.PENDING or case.opened_at is None:
        return _(
            "This step waits for another department. The citizen's answers are shown when it opens."
        )
    return ""


def assignee_choices(*, case: Case) -> QuerySet[User]:
    """Whom a lead may give the case to: the active users of the department's group (which
    holds `change_case` on it) except its applicant."""
    return (
        User.objects.filter(groups=case.department.group_id, is_active=True)
        .exclude(pk=case.application.citizen_id)
        .order_by("email")
    )


def visible_fields(*, user: User, case: Case) -> list[str]:
    """The case's fields this user may see: all the step's, or those a consultation shares."""
    shared = access_of(user=user, case=case).fields
    return list(case.fields) if shared is None else [k for k in case.fields if k in shared]


def case_attachment(*, case: Case, token: str, user: User) -> Any:
    """A file of one of the case's fields this user may see, or None. Whether they may
    download it now is `values_withheld`."""
    keys = visible_fields(user=user, case=case)
    return case.application.attachments.filter(token=token, field_key__in=keys).first()


def case_view(*, case: Case, user: User) -> dict[str, Any]:
    """What staff see of a case: its fields only (a consultee: the fields shared with them),
    personal values masked, files by name; no answers at all while the values are withheld from
    this user (`values_withheld`)."""
    withheld = values_withheld(user=user, case=case)
    if withheld:
        return {"rows": [], "personal_fields": [], "withheld": withheld}
    keys = visible_fields(user=user, case=case)
    catalogue = dictionary()
    answers = application_answers(case.application)
    attachments = {a.field_key: a for a in case.application.attachments.filter(field_key__in=keys)}
    rows, personal = [], []
    for key in keys:
        definition = catalogue.get(key)
        if definition is None:
            continue
        value = answers.get(key)
        sealed = is_sealed_field(definition)
        kind = kind_for(definition.type)
        attachment = attachments.get(key)
        shown = kind.staff_display(value, definition, sealed=sealed, attachment=attachment)
        if sealed and value is not None:
            personal.append(key)
        rows.append(
            {
                "key": key,
                "label": definition.staff_label_translated,
                "value": shown,
                "masked": sealed and value is not None and not kind.is_file,
                "sensitivity": definition.sensitivity,
                "file": attachment.token if kind.is_file and attachment is not None else None,
            }
        )
    return {"rows": rows, "personal_fields": personal, "withheld": ""}


# The timeline's entries that are not audit events, and what a clerk reads for them.
TIMELINE_NAMES = {
    "question": gettext_lazy("Question to the citizen"),
    "reply": gettext_lazy("The citizen's reply"),
    "note": gettext_lazy("Internal note"),
    "opinion": gettext_lazy("Opinion"),
}


def _person(user: User | None) -> str:
    """A person as the timeline names them: name, else email; the portal itself as "System"."""
    if user is None:
        return gettext("System")
    return user.full_name or user.email


def shown_values(values: dict[str, Any]) -> dict[str, str]:
    """Revealed answers as the page shows them: a choice by its label, yes/no in words, in the
    reader's language (the API gives the values themselves)."""
    catalogue = dictionary()
    shown = {}
    for key, value in values.items():
        definition = catalogue.get(key)
        kind = kind_for(definition.type) if definition is not None else None
        if kind is None or kind.is_file or value is None:
            shown[key] = "" if value is None else str(value)
        else:
            shown[key] = kind.display(value, definition)
    return shown


def _behalf_entry(absent: User | None) -> dict[str, str | None]:
    """A timeline entry's "on behalf of": the absent colleague's email and name (None when the
    actor acted in their own right; the page reads "X on behalf of Y")."""
    return {
        "on_behalf_of": absent.email if absent is not None else None,
        "on_behalf_of_name": _person(absent) if absent is not None else None,
    }


def case_timeline(*, case: Case, consultee: bool = False) -> list[dict[str, Any]]:
    """Decisions, questions, replies, internal notes and consultees' opinions, oldest first
    (their text opened; once the application was erased, the emptied texts say so). `kind` is
    the code (an audit action, or question, reply, note, opinion) and `by` an email; `name` and
    `by_name` are what people read. An act a delegate did for an absent colleague names them:
    `on_behalf_of` (email) and `on_behalf_of_name` (None otherwise). A consultee
    (`consultee=True`) sees no internal note and not the texts exchanged with the citizen: only
    the fields shared with them."""
    erased = case.application.erased_at is not None

    def shown(text: str) -> str:
        return gettext("erased") if erased and not text else text

    audited = list(
        AuditEvent.objects.filter(target_type="workflows.case", target_ref=case.reference)
        .exclude(action__in=["pii.read", *(["case.note"] if consultee else [])])
        .select_related("actor")
    )
    behalf = BehalfReader().prefetch(audited)
    events = [
        {
            "at": e.occurred_at,
            "kind": e.action,
            "name": event_name(e.action),
            "by": e.actor.email if e.actor else "system",
            "by_name": _person(e.actor),
            **_behalf_entry(behalf.user(e)),
            "text": "",
        }
        for e in audited
    ]
    for opinion in case.opinions.select_related("author"):
        events.append(
            _written("opinion", opinion.created_at, opinion.author, shown(opinion.text_plain))
        )
    # A consultee reads that questions were asked and answered, not what was said.
    events += _exchanges(case, shown, audited, behalf, full=not consultee)
    return sorted(events, key=lambda e: e["at"])


def _written(
    kind: str, at: dt.datetime, author: User, text: str, behalf: User | None = None
) -> dict[str, Any]:
    """A timeline entry a member of staff wrote: a question, an opinion or a note."""
    return {
        "at": at,
        "kind": kind,
        "name": str(TIMELINE_NAMES[kind]),
        "by": author.email,
        "by_name": _person(author),
        **_behalf_entry(behalf),
        "text": text,
    }


def _exchanges(
    case: Case, shown, audited: list[AuditEvent], behalf: BehalfReader, *, full: bool = True
) -> list[dict[str, Any]]:
    """The questions to the citizen and their replies (their texts only when `full`), and the
    internal notes of a case (only when `full`)."""
    found: list[dict[str, Any]] = []
    applicant = case.application.citizen_id
    for request in case.information_requests.select_related("asked_by", "replied_by"):
        found.append(
            _written(
                "question",
                request.asked_at,
                request.asked_by,
                shown(request.message_plain) if full else "",
            )
        )
        if request.replied_at:
            # A reply sent by a representative says so (services.permissions).
            by_representative = request.replied_by_id not in (None, applicant)
            found.append(
                {
                    "at": request.replied_at,
                    "kind": "reply",
                    "name": str(TIMELINE_NAMES["reply"]),
                    "by": request.replied_by.email if by_representative else "citizen",
                    "by_name": gettext("Representative %(name)s for the citizen")
                    % {"name": _person(request.replied_by)}
                    if by_representative
                    else gettext("The citizen"),
                    "representative": by_representative,
                    **_behalf_entry(None),
                    "text": shown(request.reply_plain) if full else "",
                }
            )
    if not full:
        return found
    # A note written on someone's behalf: its audit event says for whom.
    noted = {e.details.get("note"): behalf.user(e) for e in audited if e.action == "case.note"}
    for note in case.notes.select_related("author"):
        found.append(
            _written(
                "note", note.created_at, note.author, shown(note.text_plain), noted.get(note.pk)
            )
        )
    return found


def sibling_cases(*, case: Case) -> list[Case]:
    """The other departments' parts of the same application: status only."""
    return list(
        case.application.cases.exclude(pk=case.pk).select_related("department").order_by("id")
    )


def cases_of_application(application: Application) -> list:
    """The departments' parts of an application, for its owner: status only, in step order."""
    return list(application.cases.select_related("department", "version__service").order_by("id"))


def open_information_requests(application: Application) -> list:
    """Questions from departments that wait for the citizen's answer."""
    return list(
        InformationRequest.objects.filter(
            case__application=application, replied_at__isnull=True, case__status="awaiting_citizen"
        )
        .select_related("case__department")
        .order_by("asked_at")
    )


# --- Consultations (workflows.consultations) ------------------------------------------------


def consulted_for_user(*, user: User, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The "consulted" tab: each case shared with the user (or a department of theirs) by an
    open consultation, with why (the reason opened), by whom and until when; by due date."""
    now = now or timezone.now()
    cases = with_step_names(
        list(
            permissions.consulted_cases(user=user, now=now)
            .select_related("department", "version__service", "application", "assignee")
            .defer(*LIST_DEFERRED)
            .order_by(F("due_at").asc(nulls_last=True), "id")[:SEARCH_LIMIT]
        )
    )
    # Their open consultations in one query, each row with the case already read.
    shared: dict[int, list[Any]] = {}
    for consultation in (
        Consultation.objects.filter(permissions.open_for(user, now), case__in=cases)
        .select_related("department", "official", "shared_by")
        .order_by("created_at", "id")
    ):
        shared.setdefault(consultation.case_id, []).append(consultation)
    rows = []
    for case in cases:
        for consultation in shared.get(case.pk, []):
            consultation.case = case
            rows.append({"case": case, "consultation": consultation})
    return rows


def case_consultation(*, case: Case, pk: int) -> Any:
    """One consultation of the case, or None (callers answer 404)."""
    return case.consultations.filter(pk=pk).first()


def case_consultations(*, case: Case) -> list[Any]:
    """The consultations of a case, newest first, for its department's staff."""
    return list(
        case.consultations.select_related("department", "official", "shared_by").order_by(
            "-created_at", "-id"
        )
    )


def share_departments(*, case: Case) -> list[Any]:
    """The departments a case may be shared with: the active ones but its own."""
    return list(Department.objects.filter(active=True).exclude(pk=case.department_id))


def case_field_choices(*, case: Case) -> list[tuple[str, str]]:
    """The step's fields as (key, staff label), for choosing which ones to share."""
    return list(field_labels(case.fields, staff=True).items())
