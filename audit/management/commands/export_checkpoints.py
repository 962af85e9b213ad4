"""Print the signed checkpoints as JSON lines, to keep a copy outside the database."""

import json

from django.core.management.base import BaseCommand

from audit.models import AuditCheckpoint


class Command(BaseCommand):
    help = "Export the signed audit checkpoints (one JSON object per line)."

    def handle(self, *args, **options) -> None:
        for c in AuditCheckpoint.objects.order_by("chain_seq"):
            self.stdout.write(
                json.dumps(
                    {
                        "chain_seq": c.chain_seq,
                        "head_hash": c.head_hash,
                        "signature": c.signature,
                        "key_id": c.key_id,
                        "created_at": c.created_at.isoformat(),
                    }
                )
            )
