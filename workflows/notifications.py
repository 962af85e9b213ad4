"""Messages about cases: to staff about deadlines (they name the case, never the citizen's
data), and to citizens about where each department's part of their application stands.

Each message is written in its recipient's language (`User.language`, else LANGUAGE_CODE:
core.i18n.language_for), with dates in the city's time zone and links to PORTAL_BASE_URL."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.i18n import language_for
from services.models import Application

from .constants import CaseStatus
from .models import Case, InformationRequest

logger = logging.getLogger(__name__)


def _case(case_id: int) -> Case | None:
    return Case.objects.select_related("department", "assignee").filter(pk=case_id).first()


def _link(case: Case) -> str:
    return f"{settings.PORTAL_BASE_URL}/workbench/cases/{case.reference}/"


def _due(case: Case) -> str:
    """The due date as read in the active language, in the city's time zone."""
    return formats.date_format(timezone.localtime(case.due_at), "DATE_FORMAT")


def _staff_message(case: Case, *, breached: bool) -> tuple[str, str]:
    values = {"ref": case.reference, "step": case.step_name_translated, "link": _link(case)}
    if breached:
        subject = _("Deadline missed: case %(ref)s")
        body = _(
            "Case %(ref)s (%(step)s) was due on %(due)s and is not decided.\n"
            "What to do next: open the case, and decide it or assign it to a colleague who can.\n"
            "%(link)s"
        )
    else:
        subject = _("Case %(ref)s is due soon")
        body = _(
            "Case %(ref)s (%(step)s) is due on %(due)s.\n"
            "What to do next: open the case and decide it before that date.\n"
            "%(link)s"
        )
    return subject % values, body % {**values, "due": _due(case)}


def case_reminder(*, case_id: int) -> None:
    case = _case(case_id)
    if case is None:
        return
    recipient = case.assignee if case.assignee else None
    to = [recipient.email] if recipient else [case.department.contact_email]
    to = [t for t in to if t]
    if not to:
        return
    with translation.override(language_for(recipient)):
        subject, body = _staff_message(case, breached=False)
    send_mail(subject, body, None, to)


def case_breached(*, case_id: int) -> None:
    case = _case(case_id)
    if case is None:
        return
    group = case.department.lead_group_id
    leads = list(User.objects.filter(groups=group, is_active=True)) if group else []
    if not leads:
        return
    # One message per language, each to the leads who read that language.
    by_language: dict[str, list[str]] = {}
    for lead in leads:
        by_language.setdefault(language_for(lead), []).append(lead.email)
    for language, emails in by_language.items():
        with translation.override(language):
            subject, body = _staff_message(case, breached=True)
        send_mail(subject, body, None, emails)


def applications_changed(*, application_ids: list[int]) -> list[int]:
    """Tell each citizen where each department's part of their application stands after the
    engine changed something (one message per application, sent over one connection); a
    department's open question is quoted, with what to do next.
    Returns the applications whose message could not be sent."""
    applications = list(
        Application.objects.select_related("citizen").filter(pk__in=application_ids).order_by("pk")
    )
    cases: dict[int, list] = {a.pk: [] for a in applications}
    all_cases = list(
        Case.objects.filter(application_id__in=list(cases))
        .select_related("department")
        .order_by("id")
    )
    questions = {
        request.case_id: request
        for request in InformationRequest.objects.filter(
            case__in=[c for c in all_cases if c.status == CaseStatus.AWAITING_CITIZEN],
            replied_at__isnull=True,
        )
    }
    for case in all_cases:
        request = questions.get(case.pk)
        case.open_question = request.message_plain if request else ""
        cases[case.application_id].append(case)
    messages = []
    for application in applications:
        with translation.override(language_for(application.citizen)):
            context = {
                "application": application,
                "cases": cases[application.pk],
                "asked": any(c.open_question for c in cases[application.pk]),
                "base_url": settings.PORTAL_BASE_URL,
            }
            subject = render_to_string("services/email/changed_subject.txt", context).strip()
            body = render_to_string("services/email/changed_body.txt", context)
        message = EmailMessage(subject, body, None, [application.citizen.email])
        messages.append((application.pk, message))
    failed = []
    if messages:
        # One connection, one message at a time: SMTP's send_messages stops at the first
        # refused message, and a retry of all of them would send the earlier ones again.
        with get_connection() as mail:
            for application_id, message in messages:
                try:
                    mail.send_messages([message])
                except Exception:
                    logger.exception("notification of application %s not sent", application_id)
                    failed.append(application_id)
    return failed
