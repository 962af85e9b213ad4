"""Issuing documents and verifying them, each with its audit event.

`receipt_issue` and `letter_issue` hand out the PDF of a document. When what it says has not
changed since the last copy in that language, the same document (code, date, bytes) is handed
out again and nothing is written; otherwise a new document is issued, recorded with the digest
of its bytes, and audited (`receipt.issue`, `letter.issue`). Verifying a genuine document, by
its code or by its file, records `receipt.verify` on its application; a refused code or file
is logged, not audited (anyone may try one, and the audit log is not theirs to fill).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.actions import audit_record
from audit.constants import AuditAction
from core.errors import InvalidInput, WrongState
from services.constants import ApplicationStatus
from services.models import Application
from workflows.models import Case

from . import codes, selectors
from .models import DocumentKind, IssuedDocument
from .render import render_pdf

logger = logging.getLogger(__name__)


class NotGenuine(InvalidInput):
    """A code or a file the portal did not issue, or one altered since."""


def _issue(
    *,
    kind: str,
    application: Application,
    case: Case | None,
    content: dict,
    language: str,
    actor: Any,
    action: AuditAction,
) -> tuple[IssuedDocument, bytes]:
    digest = selectors.content_digest(content)
    same = selectors.same_document(
        application=application, case=case, kind=kind, language=language, digest=digest
    )
    if same is not None:
        try:
            pdf = _render(same, content)
        except codes.BadCode:  # its key was retired from the keyring: issue a new one
            pdf = None
        if pdf is not None and hashlib.sha256(pdf).hexdigest() == same.digest:
            return same, pdf
    document = IssuedDocument(
        kind=kind,
        application=application,
        case=case,
        token=codes.new_token(),
        key_id=codes.current_key_id(),
        language=language,
        issued_at=timezone.now(),
        content_digest=digest,
    )
    pdf = _render(document, content)
    document.digest = hashlib.sha256(pdf).hexdigest()
    document.save(force_insert=True)
    details: dict[str, Any] = {"document": document.pk, "language": language}
    if case is not None:
        details["case"] = case.reference
    audit_record(
        action=action,
        actor=actor,
        target=application,
        subject=application.citizen,
        details=details,
    )
    return document, pdf


def _render(document: IssuedDocument, content: dict) -> bytes:
    code = codes.make(document.token, document.key_id)
    with translation.override(document.language):
        issued = selectors.when(document.issued_at)
    return render_pdf(
        kind=document.kind,
        content=content,
        code=code,
        issued=issued,
        language=document.language,
    )


@transaction.atomic
def receipt_issue(
    *, application: Application, actor: Any, language: str
) -> tuple[IssuedDocument, bytes]:
    """The receipt of a submitted application, in `language`: (document, PDF bytes)."""
    if application.status == ApplicationStatus.DRAFT:
        raise WrongState(
            _("This application is a draft: submit it first, and its receipt will be ready.")
        )
    content = selectors.receipt_content(application, language=language)
    return _issue(
        kind=DocumentKind.RECEIPT,
        application=application,
        case=None,
        content=content,
        language=language,
        actor=actor,
        action=AuditAction.RECEIPT_ISSUE,
    )


@transaction.atomic
def letter_issue(*, case: Case, actor: Any, language: str) -> tuple[IssuedDocument, bytes]:
    """The decision letter of a decided case, in `language`: (document, PDF bytes)."""
    if case.status not in selectors.DECIDED:
        raise WrongState(_("This part of your application has not been decided yet."))
    content = selectors.letter_content(case, language=language)
    return _issue(
        kind=DocumentKind.LETTER,
        application=case.application,
        case=case,
        content=content,
        language=language,
        actor=actor,
        action=AuditAction.LETTER_ISSUE,
    )


def _verified(document: IssuedDocument, *, actor: Any, method: str) -> IssuedDocument:
    signed_in = actor is not None and actor.is_authenticated
    audit_record(
        action=AuditAction.RECEIPT_VERIFY,
        actor=actor if signed_in else None,
        role=None if signed_in else "anonymous",
        target=document.application,
        subject=document.application.citizen,
        details={"document": document.pk, "kind": document.kind, "method": method},
    )
    return document


@transaction.atomic
def document_verify_code(*, code: str, actor: Any) -> IssuedDocument:
    """The document a verification code stands for; `NotGenuine` for a code the portal did not
    make (its signature does not match) or a genuine-looking one it never issued."""
    try:
        token, kid = codes.check(code)
    except codes.BadCode as exc:
        logger.info("receipt verification refused: %s", exc)
        raise NotGenuine(
            _("This code is not a code the portal issued. It may have been mistyped or altered.")
        ) from exc
    document = selectors.document_by_token(token)
    if document is None or document.key_id != kid:
        logger.info("receipt verification refused: unknown document")
        raise NotGenuine(_("No document was issued with this code."))
    return _verified(document, actor=actor, method="code")


@transaction.atomic
def document_verify_file(*, data: bytes, actor: Any) -> IssuedDocument:
    """The document whose PDF is exactly `data`; `NotGenuine` when no issued document has these
    bytes (a changed byte changes the digest)."""
    document = selectors.document_by_digest(hashlib.sha256(data).hexdigest())
    if document is None:
        logger.info("receipt verification refused: unknown file")
        raise NotGenuine(
            _(
                "This file is not a document the portal issued, or it was changed after it was "
                "issued."
            )
        )
    return _verified(document, actor=actor, method="file")
