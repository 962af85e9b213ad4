"""Recompute the audit chain; exit status 0 only when it is intact (design contract)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from audit.actions import audit_seal
from audit.selectors import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and signed checkpoints; name the first bad event."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seal", action="store_true", help="seal pending events first")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument(
            "--independent",
            action="store_true",
            help="compute every content digest in Python from the raw columns instead of in "
            "PostgreSQL (slower; trusts nothing the database computes)",
        )

    def handle(self, *args, seal: bool, json: bool, independent: bool, **options) -> None:
        if seal:
            while audit_seal():
                pass
        result = audit_verify(independent=independent)
        if json:
            self.stdout.write(_json(result))
        elif result["valid"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit chain intact: {result['checked']} events, "
                    f"{result['checkpoints']} checkpoints ({result['unsealed']} not sealed yet)."
                )
            )
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
