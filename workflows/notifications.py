"""Messages to staff about deadlines. They name the case, never the citizen's data."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.constants import MembershipRole

from .models import Case


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
            "step": case.step_name,
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
            "step": case.step_name,
            "due": case.due_at.strftime("%Y-%m-%d"),
            "link": _link(case),
        }
    send_mail(subject, body, None, leads)
