"""What a receipt or a letter says, read for its owner, in one language.

A document's content is plain data (strings, already translated and formatted), so its digest
says whether anything a reader sees changed since the last copy was issued. Personal answers
are masked with the rule staff see before a reveal (`services.masking`); a receipt leaves the
portal, and a lost copy should not give away a national ID or a phone number.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _

from services import masking
from services import selectors as services_selectors
from services.constants import ENCRYPTED_SENSITIVITIES
from services.fields import kind_for
from services.models import Application
from services.schema import applicable_keys
from workflows.constants import CaseStatus
from workflows.models import Case
from workflows.selectors import cases_of_application

from .models import DocumentKind, IssuedDocument

# The jurisdiction's time: what the date on paper means, whatever the server's TIME_ZONE.
ZONE = ZoneInfo("Asia/Shanghai")
DECIDED = (CaseStatus.APPROVED, CaseStatus.REJECTED)
# Per language prefix: (date and time, date). Chinese as written on official paper.
_FORMATS = {"zh": ("Y年n月j日 H:i", "Y年n月j日"), "en": ("j F Y, H:i", "j F Y")}


def language_for(user: Any) -> str:
    """The citizen's chosen language, else the request's, if the portal offers it."""
    offered = {code for code, _name in settings.LANGUAGES}
    chosen = getattr(user, "language", "") or ""
    if chosen in offered:
        return chosen
    active = translation.get_language() or settings.LANGUAGE_CODE
    return active if active in offered else settings.LANGUAGE_CODE


def when(value: datetime | None, *, time: bool = True) -> str:
    """A moment on paper, in Asia/Shanghai time, in the active language's usual form."""
    if value is None:
        return ""
    language = (translation.get_language() or "en").split("-")[0]
    with_time, date_only = _FORMATS.get(language, _FORMATS["en"])
    return dateformat.format(timezone.localtime(value, ZONE), with_time if time else date_only)


def department_name(department: Any) -> str:
    language = (translation.get_language() or "").lower()
    names = (department.translations or {}).get(language, {})
    return names.get("name") or department.name


def _answer_text(merged: Any, value: Any, attachment: Any) -> str:
    definition = merged.definition
    kind = kind_for(definition.type)
    if kind.is_file:
        return _("File attached") if attachment is not None else ""
    if value is None or value == "":
        return ""
    if definition.sensitivity in ENCRYPTED_SENSITIVITIES:
        return masking.mask(definition, value)
    return str(kind.display(value, definition, attachment=attachment))


def _answer_sections(application: Application) -> list[dict]:
    if application.erased_at:
        return []
    fields = services_selectors.application_form(application)
    answers = services_selectors.application_answers(application)
    attachments = {a.field_key: a for a in application.attachments.all()}
    applies = applicable_keys(fields, answers)
    sections: dict[str, dict] = {}
    for merged in fields:
        if not applies.get(merged.key):
            continue
        section = sections.setdefault(
            merged.definition.section,
            {"title": str(merged.definition.section_title), "rows": []},
        )
        section["rows"].append(
            {
                "label": str(merged.definition.label_translated),
                "value": _answer_text(merged, answers.get(merged.key), attachments.get(merged.key)),
            }
        )
    return list(sections.values())


def _part(case: Case) -> dict:
    return {
        "department": department_name(case.department),
        "service": str(case.version.service.name_translated),
        "step": case.step_name_translated or case.step,
        "status": str(case.get_status_display()),
        "due": when(case.due_at, time=False) if case.status not in DECIDED else "",
        "decided": when(case.decided_at, time=False) if case.status in DECIDED else "",
    }


def receipt_content(application: Application, *, language: str) -> dict:
    """Everything a receipt shows, in `language` (plain strings, for the digest and the PDF)."""
    with translation.override(language):
        versions = services_selectors.application_versions(application)
        return {
            "reference": application.reference,
            "status": str(application.get_status_display()),
            "submitted": when(application.submitted_at),
            "services": [str(v.service.name_translated) for v in versions],
            "parts": [_part(c) for c in cases_of_application(application)],
            "sections": _answer_sections(application),
        }


def letter_content(case: Case, *, language: str) -> dict:
    """What a decision letter says: the decision, by whom (the department), when, and why."""
    with translation.override(language):
        return {
            "reference": case.application.reference,
            "case": case.reference,
            "approved": case.status == CaseStatus.APPROVED,
            "decision": str(case.get_status_display()),
            **_part(case),
            "reason": case.decision_note_plain if case.decision_note else "",
        }


def content_digest(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def decided_case_of(application: Application, case_ref: str) -> Case | None:
    """The application's decided case with this reference (or id), else None."""
    cases = Case.objects.select_related("department", "version__service", "application")
    cases = cases.filter(application=application, status__in=DECIDED)
    if case_ref.isdigit():
        return cases.filter(pk=int(case_ref)).first() or cases.filter(reference=case_ref).first()
    return cases.filter(reference=case_ref).first()


def decided_cases(application: Application) -> list[Case]:
    return [c for c in cases_of_application(application) if c.status in DECIDED]


def same_document(
    *, application: Application, case: Case | None, kind: str, language: str, digest: str
) -> IssuedDocument | None:
    """The latest document issued with exactly this content, to hand out again."""
    return (
        IssuedDocument.objects.filter(
            application=application,
            case=case,
            kind=kind,
            language=language,
            content_digest=digest,
        )
        .order_by("-issued_at", "-id")
        .first()
    )


def document_by_token(token: str) -> IssuedDocument | None:
    return (
        IssuedDocument.objects.select_related("application", "case__department")
        .filter(token=token)
        .first()
    )


def document_by_digest(digest: str) -> IssuedDocument | None:
    return (
        IssuedDocument.objects.select_related("application", "case__department")
        .filter(digest=digest)
        .first()
    )


def public_summary(document: IssuedDocument) -> dict:
    """What the verification page shows of a genuine document: what the paper itself shows
    minus the answers (reference, date, services, each department's part and where it stands),
    in the active language. No personal value, masked or not."""
    application = document.application
    versions = services_selectors.application_versions(application)
    summary = {
        "kind": document.kind,
        "kind_label": str(document.get_kind_display()),
        "reference": application.reference,
        "issued": when(document.issued_at),
        "submitted": when(application.submitted_at),
        "services": [str(v.service.name_translated) for v in versions],
    }
    if document.kind == DocumentKind.LETTER and document.case is not None:
        summary["parts"] = [_part(document.case)]
        summary["case"] = document.case.reference
    else:
        summary["parts"] = [_part(c) for c in cases_of_application(application)]
    return summary
