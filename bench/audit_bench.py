"""Audit log benchmark: how fast the sealer chains and `verify_audit` recomputes the chain.

Run against a throw-away database (it writes events):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python bench/audit_bench.py --events 200000
The database is created and migrated if needed. Prints events per second for both.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from audit.actions import audit_seal
    from audit.models import AuditEvent
    from audit.selectors import audit_verify

    call_command("migrate", verbosity=0)
    existing = AuditEvent.objects.count()
    now = timezone.now()
    start = time.perf_counter()
    batch = []
    for i in range(args.events):
        batch.append(
            AuditEvent(
                occurred_at=now,
                actor_role="clerk",
                action="pii.read",
                target_type="workflows.case",
                target_ref=f"C-BENCH-{i:06d}",
                request_id=f"{i:032x}",
                source="api",
                details={"fields": ["applicant.full_name", "applicant.national_id"]},
            )
        )
        if len(batch) == 5000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    inserted = time.perf_counter() - start

    start = time.perf_counter()
    sealed = 0
    while n := audit_seal(batch=20_000):
        sealed += n
    seal_time = time.perf_counter() - start

    start = time.perf_counter()
    result = audit_verify()
    verify_time = time.perf_counter() - start

    print(f"database: {connection.vendor}; events before: {existing}")
    print(f"inserted {args.events} events in {inserted:.1f}s")
    print(f"sealed {sealed} events in {seal_time:.1f}s: {sealed / seal_time:,.0f} events/s")
    print(
        f"verified {result['checked']} events in {verify_time:.1f}s: "
        f"{result['checked'] / verify_time:,.0f} events/s (valid: {result['valid']})"
    )


if __name__ == "__main__":
    main()
