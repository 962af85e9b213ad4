"""Messages to citizens. No personal values in them beyond the citizen's own address."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from core.i18n import language_for

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
    # In the citizen's language (their choice, else the portal's default), whoever sends it.
    with translation.override(language_for(application.citizen)):
        context = {
            "application": application,
            "services": [v.service.name_translated for v in application.versions.all()],
            "base_url": settings.PORTAL_BASE_URL,
        }
        subject = render_to_string("services/email/submitted_subject.txt", context).strip()
        body = render_to_string("services/email/submitted_body.txt", context)
    send_mail(subject, body, None, [application.citizen.email])
