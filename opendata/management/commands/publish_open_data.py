"""Publish the open statistics of an ended month (by default the previous one)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from core.errors import PortalError
from opendata import actions, selectors


class Command(BaseCommand):
    help = "Publish a signed, immutable open-data release for one ended month."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--month", help="YYYY-MM (default: the previous month)")
        parser.add_argument(
            "--epsilon", help="differentially private counts spending this budget (e.g. 0.5)"
        )
        parser.add_argument(
            "--as", dest="actor", required=True, help="email of the supervisor or administrator"
        )

    def handle(self, *args, month: str | None, actor: str, epsilon: str | None, **options) -> None:
        user = User.objects.filter(email__iexact=actor, is_active=True).first()
        if user is None or not selectors.can_publish(user):
            raise CommandError(f"{actor} is not an active supervisor or administrator.")
        try:
            if month:
                period = actions.parse_month(month)
            else:
                today = timezone.localdate()
                period = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
            release = actions.release_publish(
                period=period, actor=user, epsilon=actions.parse_epsilon(epsilon)
            )
        except PortalError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Published version {release.version} for {release.month} (sha256 {release.digest})."
        )
