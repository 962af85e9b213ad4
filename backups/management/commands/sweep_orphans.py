"""List (or with --delete remove) attachment files no row points to."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from backups.actions import orphans_sweep


class Command(BaseCommand):
    help = "List orphaned attachment files (dry run); --delete removes them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--delete", action="store_true", help="remove them")
        parser.add_argument(
            "--min-age", type=int, default=3600, help="ignore files younger than this (seconds)"
        )

    def handle(self, *args, delete: bool, min_age: int, **options) -> None:
        found = orphans_sweep(delete=delete, min_age_seconds=min_age)
        for name in found:
            self.stdout.write(name)
        n = len(found)
        if delete:
            message = ngettext("%(n)s orphaned file removed.", "%(n)s orphaned files removed.", n)
        else:
            message = ngettext(
                "%(n)s orphaned file (dry run: nothing removed; --delete removes it).",
                "%(n)s orphaned files (dry run: nothing removed; --delete removes them).",
                n,
            )
        self.stderr.write(message % {"n": n})
