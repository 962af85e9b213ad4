"""How the engine plugs into the layers below it, which never import it (docs/architecture.md):
the audit history of an application includes its cases, submitting an application wakes the
router, the application's page and API show each department's part and open questions,
erasing an application erases its cases' free text, and key rotation re-seals the engine's
sealed columns."""

from __future__ import annotations

from django.db.models import Q

from audit.selectors import register_application_part
from privacy import rotation
from services import hooks as services_hooks

from .actions import application_cases_erase
from .models import Case, CaseNote, InformationRequest
from .selectors import cases_of_application, open_information_requests
from .tasks import route_application


def _case_events(reference: str) -> Q:
    cases = Case.objects.filter(application__reference=reference).values("reference")
    return Q(target_type="workflows.case", target_ref__in=cases)


def _wake_router(application_id: int) -> None:
    route_application.delay(application_id)


def connect() -> None:
    register_application_part(_case_events)
    services_hooks.set_router(_wake_router)
    services_hooks.register_erasure(_erase_cases)
    services_hooks.set_parts(_parts)
    rotation.register_text("case", Case, ("decision_note",), label="case decision notes")
    rotation.register_text(
        "information_request",
        InformationRequest,
        ("message", "reply"),
        label="questions and replies",
    )
    rotation.register_text("case_note", CaseNote, ("text",), label="case notes")


def _erase_cases(application) -> int:
    return application_cases_erase(application=application)


def _parts(application) -> tuple[list, list]:
    return cases_of_application(application), open_information_requests(application)
