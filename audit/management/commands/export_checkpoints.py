"""Hand every signed checkpoint to the configured exporters again, or print them as JSON."""

import json

from django.core.management.base import BaseCommand

from audit.actions import audit_export_checkpoints
from audit.checkpoints import as_dict, export_to_directory
from audit.models import AuditCheckpoint


class Command(BaseCommand):
    help = (
        "Export the signed audit checkpoints: to the configured exporters (idempotent), to a "
        "folder (--to DIR), or as JSON lines on standard output (--print)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--to", metavar="DIR", help="write one file per checkpoint here")
        parser.add_argument("--print", action="store_true", help="print JSON lines instead")

    def handle(self, *args, to: str | None, print: bool, **options) -> None:
        rows = AuditCheckpoint.objects.filter(number__isnull=False).order_by("number")
        if print:
            for checkpoint in rows:
                self.stdout.write(json.dumps(as_dict(checkpoint)))
            return
        if to:
            for checkpoint in rows:
                export_to_directory(as_dict(checkpoint), to)
            self.stdout.write(f"{rows.count()} checkpoint(s) in {to}")
            return
        self.stdout.write(f"{audit_export_checkpoints()} checkpoint(s) handed to the exporters")
