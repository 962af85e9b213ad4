"""How the receipts plug into the layers below: the application's page and API link to the
receipt and to each decided case's letter (`services.hooks.set_documents`)."""

from __future__ import annotations

from django.urls import reverse

from services import hooks as services_hooks
from services.constants import ApplicationStatus

from .selectors import DECIDED


def _documents(application, cases) -> tuple[str | None, dict[str, str]]:
    if application.status == ApplicationStatus.DRAFT:
        return None, {}
    receipt = reverse("receipts:receipt", kwargs={"reference": application.reference})
    letters = {
        case.reference: reverse(
            "receipts:letter",
            kwargs={"reference": application.reference, "case": case.reference},
        )
        for case in cases
        if case.status in DECIDED
    }
    return receipt, letters


def connect() -> None:
    services_hooks.set_documents(_documents)
