"""Messages to citizens. No personal values in them beyond the citizen's own address."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.template.loader import render_to_string
from django.utils import translation

from .models import Application

logger = logging.getLogger(__name__)


def application_submitted(*, application_id: int) -> None:
    application = (
        Application.objects.select_related("citizen")
        .prefetch_related("versions__service")
        .filter(pk=application_id)
        .first()
    )
    if application is None or application.submitted_at is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "application": application,
            "services": [v.service.name_translated for v in application.versions.all()],
            "base_url": settings.PORTAL_BASE_URL,
        }
        subject = render_to_string("services/email/submitted_subject.txt", context).strip()
        body = render_to_string("services/email/submitted_body.txt", context)
    send_mail(subject, body, None, [application.citizen.email])


def applications_changed(*, application_ids: list[int]) -> list[int]:
    """Tell each citizen where each department's part of their application stands after the
    engine changed something (one message per application, sent over one connection).
    Returns the applications whose message could not be sent."""
    from workflows.models import Case  # workflows builds on services, not the reverse

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
