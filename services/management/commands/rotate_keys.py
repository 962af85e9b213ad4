"""Re-encrypt every personal value and MFA secret under the active key: batched, resumable,
with progress."""

from __future__ import annotations

import functools

from django.core.management.base import BaseCommand

from accounts.actions import authenticators_secure_batch
from audit import crypto
from audit.models import DataKey
from audit.purposes import data_keys_rotate_batch
from services.actions import rotate_attachments_batch, rotate_keys_batch, rotate_text_batch
from services.models import Application, Attachment, CitizenProfile
from workflows.models import Case, CaseNote, InformationRequest


class Command(BaseCommand):
    help = (
        "Re-encrypt personal values (answers, profile facts, free text, files, two-factor "
        "secrets and the data keys of audit purposes) under PORTAL_ENCRYPTION_ACTIVE_KEY. Old "
        "keys must stay listed in PORTAL_ENCRYPTION_KEYS until this finishes; running it again "
        "resumes and skips done rows."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args, batch: int, **options) -> None:
        active = crypto.active_key_id()
        self.stdout.write(f"Re-encrypting under key {active}")
        total_changed = 0
        for model, queryset in (
            ("application", Application.objects),
            ("profile", CitizenProfile.objects),
        ):
            total, done, after = queryset.count(), 0, 0
            while True:
                after, scanned, changed = rotate_keys_batch(
                    model=model, after_pk=after, batch=batch
                )
                if not scanned:
                    break
                done += scanned
                total_changed += changed
                self.stdout.write(f"  {model}s: {done}/{total}")
        # Free text (notes, reasons, questions, replies, file names): a value still in clear is
        # sealed too. Then the audit purposes' data keys are re-wrapped; audit events never
        # change.
        steps = [
            (label, queryset, functools.partial(rotate_text_batch, model=model))
            for model, label, queryset in (
                ("case", "case decision notes", Case.objects),
                ("information_request", "questions and replies", InformationRequest.objects),
                ("case_note", "case notes", CaseNote.objects),
                ("attachment_name", "file names", Attachment.objects),
            )
        ]
        steps += [
            ("attachment files", Attachment.objects, rotate_attachments_batch),
            ("audit purpose data keys", DataKey.objects, data_keys_rotate_batch),
        ]
        for label, queryset, rotate in steps:
            total, done, after = queryset.count(), 0, 0
            while True:
                after, scanned, changed = rotate(after_pk=after, batch=batch)
                if not scanned:
                    break
                done += scanned
                total_changed += changed
                self.stdout.write(f"  {label}: {done}/{total}")
        # TOTP secrets and recovery-code seeds (clear ones, from before they were encrypted, too).
        done, after = 0, 0
        while True:
            after, scanned, changed = authenticators_secure_batch(after_pk=after, batch=batch)
            if not scanned:
                break
            done += scanned
            total_changed += changed
            self.stdout.write(f"  two-factor authenticators: {done}")
        self.stdout.write(self.style.SUCCESS(f"Done: {total_changed} rows re-encrypted."))
