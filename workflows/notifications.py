"""Messages about cases: to staff about deadlines (they name the case, never the citizen's
data), and to citizens about where each department's part of their application stands."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.constants import MembershipRole
from services.models import Application

from .models import Case

logger = logging.getLogger(__name__)


def _case(case_id: int) -> Case | None:
    return Case.objects.select_related("department", "assignee").filter(pk=case_id).first()


def _link(case: Case) -> str:
    return f"{settings.PORTAL_BASE_URL}/workbench/cases/{case.reference}/"


def case_reminder(*, case_id: int) -> None:
    case = _case(case_id)
    if case is None:
        return
    to = [case.assignee.email] if case.assignee else [case.department.contact_email]
    to = [t for t in to if t]
    if not to:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Case %(ref)s is due soon") % {"ref": case.reference}
        body = _("Case %(ref)s (%(step)s) is due on %(due)s.\n%(link)s") % {
            "ref": case.reference,
            "step": case.step_name_translated,
            "due": case.due_at.strftime("%Y-%m-%d"),
            "link": _link(case),
        }
    send_mail(subject, body, None, to)


def case_breached(*, case_id: int) -> None:
    case = _case(case_id)
    if case is None:
        return
    leads = list(
        case.department.memberships.filter(
            role=MembershipRole.LEAD, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    if not leads:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Deadline missed: case %(ref)s") % {"ref": case.reference}
        body = _("Case %(ref)s (%(step)s) was due on %(due)s and is not decided.\n%(link)s") % {
            "ref": case.reference,
            "step": case.step_name_translated,
            "due": case.due_at.strftime("%Y-%m-%d"),
            "link": _link(case),
        }
    send_mail(subject, body, None, leads)


def applications_changed(*, application_ids: list[int]) -> list[int]:
    """Tell each citizen where each department's part of their application stands after the
    engine changed something (one message per application, sent over one connection).
    Returns the applications whose message could not be sent."""
    applications = list(
        Application.objects.select_related("citizen").filter(pk__in=application_ids).order_by("pk")
    )
    cases: dict[int, list] = {a.pk: [] for a in applications}
    for case in (
        Case.objects.filter(application_id__in=list(cases))
        .select_related("department")
        .order_by("id")
    ):
        cases[case.application_id].append(case)
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for application in applications:
            context = {
                "application": application,
                "cases": cases[application.pk],
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
