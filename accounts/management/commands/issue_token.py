"""Print an API token for a user, for integrations and scripted clients."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import actions
from accounts.selectors import user_by_email


class Command(BaseCommand):
    help = "Print the API token of the user with this email address (created on first use)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")

    def handle(self, *args, email: str, **options) -> None:
        user = user_by_email(email=email)
        if user is None:
            raise CommandError(f"No user with the email address {email!r}.")
        try:
            token = actions.token_issue(actor=None, user=user)
        except actions.AccountError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(token.key)
