"""Print a new API token for a user, for integrations and scripted clients."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from accounts import actions
from accounts.selectors import user_by_email


class Command(BaseCommand):
    help = (
        "Issue a new API token for the user with this email address and print its key (shown "
        "only now: the portal keeps a digest). It expires after API_TOKEN_LIFETIME_DAYS days "
        "unless --days is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--days", type=int, default=None, help="days until it expires")
        parser.add_argument("--label", default="", help="what the token is for")

    def handle(self, *args, email: str, days: int | None, label: str, **options) -> None:
        user = user_by_email(email=email)
        if user is None:
            raise CommandError(f"No user with the email address {email!r}.")
        lifetime = None if days is None else timedelta(days=days)
        try:
            issued = actions.token_issue(actor=None, user=user, label=label, lifetime=lifetime)
        except actions.AccountError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(issued.key)
