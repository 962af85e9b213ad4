"""Recompute the audit chain; exit status 0 only when it is intact (design contract)."""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from audit.actions import audit_seal
from audit.checkpoints import read_directory
from audit.selectors import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and signed checkpoints; name the first bad event."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seal", action="store_true", help="seal pending events first")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument(
            "--checkpoints",
            metavar="DIR",
            default=None,
            help="folder of exported checkpoints to compare with (default: "
            "AUDIT_CHECKPOINT_DIR); the chain must agree with every one of them",
        )
        parser.add_argument(
            "--independent",
            action="store_true",
            help="compute every content digest in Python from the raw columns instead of in "
            "PostgreSQL (slower; trusts nothing the database computes)",
        )

    def handle(
        self, *args, seal: bool, json: bool, independent: bool, checkpoints: str | None, **options
    ) -> None:
        if seal:
            while audit_seal():
                pass
        folder = checkpoints or settings.AUDIT_CHECKPOINT_DIR
        exported = read_directory(folder)
        if checkpoints and exported is None:
            self.stderr.write(self.style.ERROR(f"No such folder of checkpoints: {folder}"))
            sys.exit(2)
        result = audit_verify(independent=independent, exported=exported)
        if json:
            self.stdout.write(_json(result))
        elif result["valid"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit chain intact: {result['checked']} events, "
                    f"{result['checkpoints']} checkpoints, "
                    f"{result['exported_checkpoints'] or 0} exported ones agree "
                    f"({result['unsealed']} not sealed yet)."
                )
            )
            for warning in result["warnings"]:
                self.stdout.write(self.style.WARNING(f"Warning: {warning}."))
        else:
            self.stderr.write(
                self.style.ERROR(
                    f"Audit chain broken at event {result['first_invalid']}: {result['reason']}."
                )
            )
        if not result["valid"]:
            sys.exit(1)


def _json(result: dict) -> str:
    return json.dumps(result)
