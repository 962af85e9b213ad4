"""Re-encrypt every personal value and MFA secret under the active key: batched, resumable,
with progress."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.actions import authenticators_secure_batch
from audit import crypto
from services.actions import rotate_attachments_batch, rotate_keys_batch
from services.models import Application, Attachment, CitizenProfile


class Command(BaseCommand):
    help = (
        "Re-encrypt personal values and two-factor secrets under PORTAL_ENCRYPTION_ACTIVE_KEY. "
        "Old keys must stay listed in PORTAL_ENCRYPTION_KEYS until this finishes; running it "
        "again resumes and "
        "skips done rows."
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
        total, done, after = Attachment.objects.count(), 0, 0
        while True:
            after, scanned, changed = rotate_attachments_batch(after_pk=after, batch=batch)
            if not scanned:
                break
            done += scanned
            total_changed += changed
            self.stdout.write(f"  attachment files: {done}/{total}")
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
