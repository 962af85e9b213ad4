"""Print the current TOTP code of the demo staff accounts (a stand-in for an authenticator app)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from demo.totp import current_code, demo_totp_secret


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo staff accounts (demo only)."

    def handle(self, *args, **options) -> None:
        secret = demo_totp_secret(create=False)
        if secret is None:
            raise CommandError("No demo TOTP secret: run seed_demo first.")
        self.stdout.write(current_code(secret))
