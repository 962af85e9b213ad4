"""Create a department's service account and print its first token, for scripted set-up."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import service_accounts
from accounts.models import Department
from accounts.scopes import SCOPES
from accounts.selectors import user_by_email
from core.errors import PortalError
from core.pages import refusal_text


class Command(BaseCommand):
    help = (
        "Create a service account of a department (its back-office system) answerable to a "
        "member of the department, issue its first API token with the given scopes, and print "
        "the key last (shown only now: the portal keeps a digest)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("department", help="the department's slug")
        parser.add_argument("label", help="what the system is, e.g. 'Tax back office'")
        parser.add_argument(
            "--responsible", required=True, help="email of the official answerable for it"
        )
        parser.add_argument(
            "--scopes",
            nargs="+",
            required=True,
            help=f"what the token may do: {', '.join(SCOPES)}",
        )
        parser.add_argument(
            "--days",
            type=int,
            required=True,
            help=f"days until the token expires (at most {service_accounts.MAX_TOKEN_DAYS})",
        )

    def handle(self, *args, department: str, label: str, **options) -> None:
        found = Department.objects.filter(slug=department).first()
        if found is None:
            raise CommandError(f"No department with the slug {department!r}.")
        responsible = user_by_email(email=options["responsible"], active=True)
        try:
            with transaction.atomic():
                account = service_accounts.service_account_create(
                    actor=None, department=found, label=label, responsible=responsible
                )
                issued = service_accounts.service_token_issue(
                    actor=None,
                    account=account,
                    scopes=options["scopes"],
                    days=options["days"],
                    label=label,
                )
        except PortalError as exc:
            raise CommandError(refusal_text(exc)) from exc
        self.stdout.write(f"Service account {account.pk} ({account.email}) of {found.slug}")
        self.stdout.write(
            f"Scopes: {' '.join(issued.token.scopes)}; "
            f"expires {issued.token.expires_at.isoformat()}"
        )
        self.stdout.write(issued.key)
