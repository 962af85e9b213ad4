"""Files of a draft: the type read from the content, the size and type rules of the field, the
file sealed at rest, and the answer set to the file's token. Once submitted, a file can still be
sent for a field a department's open question is about (by the applicant or a representative):
it is stored, and the reply's corrected answers name its token."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from audit.actions import audit_record
from audit.constants import AuditAction
from privacy import crypto
from privacy.freetext import seal_text

from .. import hooks
from ..constants import ApplicationStatus
from ..errors import InvalidInput, NotAllowed, WrongState
from ..fields import kind_for
from ..models import Application, Attachment
from ..permissions import application_access
from ..selectors import application_answers, application_form
from .applications import (
    _apply_patch,
    _locked,
    _save_answers,
    application_section_mark,
    application_update_answers,
)

_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}


def sniff_content_type(head: bytes) -> str | None:
    """The type of a file from its first bytes (never from its name or the browser's word)."""
    for content_type, signatures in _SIGNATURES.items():
        if any(head.startswith(sig) for sig in signatures):
            return content_type
    return None


@transaction.atomic
def attachment_upload(
    *, application: Application, actor: User, field_key: str, upload: UploadedFile
) -> Attachment:
    """Store a file for a `file` field of a draft and set the answer to its token; or, once
    submitted, a file for a field an open question is about (the reply names its token)."""
    application = _locked(application)
    access = application_access(actor, application)
    if not access.can_act:
        raise NotAllowed(_("You cannot send files for this application."))
    draft = application.status == ApplicationStatus.DRAFT
    if draft and not access.can_edit:
        raise NotAllowed(_("Only the applicant can change a draft."))
    if not draft and not _asked_for(application, field_key):
        raise WrongState(
            _(
                "Files can only be added while the application is a draft, or when a "
                "department asks for them."
            )
        )
    fields = {f.key: f for f in application_form(application)}
    merged = fields.get(field_key)
    if merged is None or not kind_for(merged.definition.type).is_file:
        raise InvalidInput(
            _("This field does not take a file."),
            errors={field_key: [_("This field does not take a file.")]},
        )
    rules = merged.definition.validation or {}
    max_bytes = int(rules.get("max_size_mb", 10) * 1024 * 1024)
    allowed = rules.get("content_types", list(_SIGNATURES))
    if upload.size is None or upload.size == 0:
        raise InvalidInput(_("The file is empty."), errors={field_key: [_("The file is empty.")]})
    if upload.size > max_bytes:
        message = _("The file is larger than %(n)s MB.") % {"n": rules.get("max_size_mb", 10)}
        raise InvalidInput(message, errors={field_key: [message]})
    content = upload.read(max_bytes + 1)
    content_type = sniff_content_type(content[:16])
    if content_type is None or content_type not in allowed:
        message = _("The file must be one of: %(types)s.") % {
            "types": ", ".join(t.split("/")[1].upper() for t in allowed)
        }
        raise InvalidInput(message, errors={field_key: [message]})
    old = list(Attachment.objects.filter(application=application, field_key=field_key))
    attachment = Attachment(
        application=application,
        field_key=field_key,
        token=secrets.token_urlsafe(18),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    attachment.original_name = seal_text(
        (upload.name or "file")[-200:], aad=attachment.sealed_text_aad("original_name")
    )
    attachment.key_id, sealed = crypto.encrypt_file(content, aad=attachment.aad)
    attachment.file.save(attachment.token, ContentFile(sealed), save=False)
    attachment.save()
    if draft:
        for previous in old:  # a replaced file is deleted after the commit
            transaction.on_commit(lambda f=previous.file: f.delete(save=False))
            previous.delete()
        values = _apply_patch(application_answers(application), {field_key: attachment.token})
        _save_answers(application, values)
    audit_record(
        action=AuditAction.ATTACHMENT_UPLOAD,
        actor=actor,
        target=attachment,
        subject=application.citizen,
        details={
            "field": field_key,
            "content_type": content_type,
            "size": len(content),
            **({} if draft else {"after_submit": True}),
        },
    )
    return attachment


def _asked_for(application: Application, field_key: str) -> bool:
    """Whether a department's open question on the application is about this field."""
    _cases, questions = hooks.parts_of(application)
    return any(field_key in (q.case.fields or []) for q in questions)


@transaction.atomic
def application_page_save(
    *,
    application: Application,
    actor: User,
    uploads: Mapping[str, Any],
    answers: Mapping[str, Any],
    section: str = "",
    completed: bool | None = None,
) -> Application:
    """Save one page of the form: its files and its answers together, or nothing; with
    `completed` (the task list's "Have you completed this section?"), that answer too."""
    for key, upload in uploads.items():
        attachment_upload(application=application, actor=actor, field_key=key, upload=upload)
    application = application_update_answers(application=application, actor=actor, answers=answers)
    if completed is not None:
        application = application_section_mark(
            application=application, actor=actor, section=section, completed=completed
        )
    return application
