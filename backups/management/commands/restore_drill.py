"""Restore the newest archive (or one named) into a scratch database and check it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from backups.actions import drill_run

from .backup import _report


class Command(BaseCommand):
    help = (
        "Restore the newest backup archive into a scratch database, verify the audit chain "
        "against the manifest's signed checkpoint, open a sample of sealed values and files "
        "with the live keys, compare row counts, then drop the scratch database."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", nargs="?", default=None, help="default: the newest")
        parser.add_argument("--sample", type=int, default=None, help="values to open")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, archive: str | None, sample: int | None, json: bool, **options):
        run = drill_run(path=Path(archive) if archive else None, sample=sample)
        if json:
            self.stdout.write(_dumps({"ok": run.ok, "archive": run.archive, **run.report}))
        _report(self, run)
        if not run.ok:
            sys.exit(1)


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True)
