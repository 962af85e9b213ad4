"""What is kept and for how long: erasure of a closed application (a tombstone stays), the
nightly retention sweep, and the key-rotation batch of attachment files."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.actions import audit_record
from audit.constants import AuditAction
from audit.purposes import application_scope, data_key_shred
from privacy import crypto, rotation

from .. import answers as sealing
from .. import hooks
from ..constants import ApplicationStatus
from ..errors import WrongState
from ..fields import kind_for
from ..models import Application, Attachment
from ..selectors import attachment_content, dictionary
from .applications import _locked


def rotate_attachments_batch(*, after_pk: int, batch: int = 100) -> tuple[int, int, int]:
    """Re-encrypt one batch of attachment files under the active key (and encrypt any file
    stored before files were encrypted). Each file is written under a new name, the row points
    to it in the transaction, and the old file is deleted after the commit, so an interrupted
    run loses nothing and resumes. Returns (last pk seen, rows scanned, files changed)."""
    active = crypto.active_key_id()

    def reseal(attachment: Attachment) -> dict | None:
        if attachment.key_id == active or not attachment.file:
            return None
        content = attachment_content(attachment)
        old_file = attachment.file
        attachment.key_id, sealed = crypto.encrypt_file(content, aad=attachment.aad)
        attachment.file = None
        attachment.file.save(
            f"{attachment.token}.{attachment.key_id}", ContentFile(sealed), save=False
        )
        transaction.on_commit(lambda f=old_file: f.delete(save=False))
        return {"file": attachment.file.name, "key_id": attachment.key_id}

    rows = Attachment.objects.select_related("application")
    return rotation.run_batch("attachment", rows, reseal, after_pk=after_pk, batch=batch)


# --- Retention and erasure ------------------------------------------------------------------------

CLOSED_STATES = (ApplicationStatus.COMPLETED, ApplicationStatus.WITHDRAWN)


@transaction.atomic
def application_erase(*, application: Application, actor: User | None, reason: str) -> Application:
    """Erase the personal values and files of a closed application; keep a tombstone.

    What stays: the reference, dates, statuses, services, cases (statuses only) and public
    answers, for statistics. The free text around the cases (decision notes and reasons,
    questions, replies, internal notes) is emptied, the rows staying as tombstones; file names go
    with their attachments. Audit events cannot change: the reveal purposes in them become
    unreadable because the application's data key is destroyed (audit/purposes.py).
    """
    application = _locked(application)
    if application.erased_at is not None:
        return application
    if application.status not in CLOSED_STATES:
        raise WrongState(_("Only a completed or withdrawn application can be erased."))
    catalogue = dictionary()
    erased = sorted(
        k
        for k in application.answers
        if k not in catalogue or sealing.is_sealed_field(catalogue[k])
    )
    files = list(application.attachments.all())
    for attachment in files:
        transaction.on_commit(lambda f=attachment.file: f.delete(save=False))
    application.attachments.all().delete()
    file_keys = {k for k, fd in catalogue.items() if kind_for(fd.type).is_file}
    application.answers = {
        k: v for k, v in application.answers.items() if k not in erased and k not in file_keys
    }
    application.national_id_index = ""
    application.erased_at = application.updated_at = timezone.now()
    application.save(update_fields=["answers", "national_id_index", "erased_at", "updated_at"])
    texts = hooks.erase_parts(application)
    shredded = data_key_shred(scope=application_scope(application.reference))
    audit_record(
        action=AuditAction.APPLICATION_ERASE,
        actor=actor,
        target=application,
        subject=application.citizen,
        details={
            "reason": reason,
            "fields": erased,
            "files": len(files),
            "texts": texts,
            "purpose_key_destroyed": shredded,
        },
    )
    return application


def erase_expired(*, now: Any = None, batch: int = 200) -> int:
    """The nightly retention sweep: erase closed applications past their versions' retention."""
    from datetime import timedelta

    now = now or timezone.now()
    candidates = (
        Application.objects.filter(status__in=CLOSED_STATES, erased_at__isnull=True)
        .prefetch_related("versions")
        .order_by("pk")
    )
    erased = 0
    for application in candidates.iterator(chunk_size=batch):
        closed = application.completed_at or application.withdrawn_at or application.updated_at
        keep_days = max((v.retention_days for v in application.versions.all()), default=730)
        if closed + timedelta(days=keep_days) <= now:
            application_erase(application=application, actor=None, reason="retention")
            erased += 1
    return erased
