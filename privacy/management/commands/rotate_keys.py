"""Re-encrypt every personal value and secret under the active key: batched, resumable, with
progress. The steps are those the apps registered with `privacy.rotation`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from privacy import crypto, rotation


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
        self.stdout.write(f"Re-encrypting under key {crypto.active_key_id()}")
        total_changed = 0
        for step in rotation.steps():
            total, done, after = step.model.objects.count(), 0, 0
            while True:
                after, scanned, changed = step.batch(after_pk=after, batch=batch)
                if not scanned:
                    break
                done += scanned
                total_changed += changed
                self.stdout.write(f"  {step.label}: {done}/{total}")
        self.stdout.write(self.style.SUCCESS(f"Done: {total_changed} rows re-encrypted."))
