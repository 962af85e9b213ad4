"""The audit scenario's work inside Django, run through `bench.common.in_django` (a child
process with the bench settings on the scenario's database)."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

ACTIONS = [
    ("pii.read", lambda r: {"fields": r.sample(FIELD_KEYS, r.randint(2, 6))}),
    ("pii.reveal", lambda r: {"field": r.choice(FIELD_KEYS)}),
    ("case.claim", lambda r: {"status": "in_progress"}),
    ("case.approve", lambda r: {"status": "approved", "department": "tax"}),
    ("application.submit", lambda r: {"services": ["moving-house"], "cases": r.randint(1, 4)}),
    ("auth.login", lambda r: {"mfa": r.random() < 0.5}),
]
FIELD_KEYS = [
    "applicant.full_name",
    "applicant.national_id",
    "applicant.phone",
    "applicant.address",
    "applicant.date_of_birth",
    "move.new_address",
    "vehicle.plate",
]


def fill(events: int) -> dict:
    """Add realistic events (COPY) until the log holds `events`, then seal them all."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from audit.actions import audit_seal, new_nonce
    from audit.chain import body_digest, mac_of
    from audit.models import AuditEvent
    from audit.signing import event_mac_key

    existing = AuditEvent.objects.count()
    missing = max(0, events - existing)
    rng = random.Random(7)
    users = list(User.objects.values_list("id", flat=True)[:500])
    if len(users) < 50:
        User.objects.bulk_create(
            User(email=f"audit-bench-{i}@bench.invalid", full_name=f"Staff {i}")
            for i in range(len(users), 50)
        )
        users = list(User.objects.values_list("id", flat=True)[:500])
    start = time.perf_counter()
    now = timezone.now()
    columns = (
        "occurred_at, actor_id, actor_role, action, target_type, target_ref, subject_id, "
        "purpose, request_id, source, ip, details, prev_hash, hash, nonce, mac"
    )
    kid, key = event_mac_key()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3
        with raw.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for i in range(missing):
                action, details = rng.choice(ACTIONS)
                at = now - timedelta(seconds=missing - i, microseconds=rng.randint(0, 999_999))
                actor, role = rng.choice(users), rng.choice(["clerk", "lead", "citizen", "system"])
                target = f"C-{rng.randint(1, 10**6):08d}"
                subject = rng.choice(users)
                purpose = "checking the address" if action == "pii.reveal" else ""
                request_id = f"{rng.getrandbits(128):032x}"
                source = rng.choice(["web", "api", "worker"])
                ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
                info = details(rng)
                nonce = new_nonce()
                body = [nonce, at, actor, role, None, action, "workflows.case", target, subject,
                        purpose, request_id, source, ip, info]  # fmt: skip
                copy.write_row(
                    (at, actor, role, action, "workflows.case", target, subject, purpose,
                     request_id, source, ip, json.dumps(info), "", "", nonce,
                     mac_of(kid, key, body_digest(body)))
                )  # fmt: skip
    inserted = time.perf_counter() - start
    start = time.perf_counter()
    sealed = 0
    while n := audit_seal(batch=20_000):
        sealed += n
    seal_time = time.perf_counter() - start
    return {
        "inserted": missing,
        "insert_seconds": inserted,
        "sealed": sealed,
        "seal_seconds": seal_time,
    }


def verify(events: int, runs: int) -> dict:
    from django.db import connection

    from audit.selectors import audit_verify

    filled = fill(events)

    def timed(**kwargs) -> tuple[float, dict]:
        start = time.perf_counter()
        result = audit_verify(**kwargs)
        return time.perf_counter() - start, result

    def bare_read() -> float:
        # The bare stack: stream the same rows' chain columns, no hashing at all.
        start = time.perf_counter()
        with connection.chunked_cursor() as cursor:
            cursor.execute(
                "SELECT id, chain_seq, prev_hash, hash FROM audit_auditevent "
                "WHERE chain_seq IS NOT NULL ORDER BY chain_seq"
            )
            while cursor.fetchmany(10_000):
                pass
        return time.perf_counter() - start

    verify_seconds, baseline_seconds, checked = [], [], 0
    for _ in range(runs):
        seconds, result = timed()
        if not result["valid"]:
            raise SystemExit(f"the benchmark chain does not verify: {result}")
        verify_seconds.append(seconds)
        checked = result["checked"]
        baseline_seconds.append(bare_read())
    independent_seconds, result = timed(independent=True)
    assert result["valid"], result
    return {
        **filled,
        "checked": checked,
        "verify_seconds": verify_seconds,
        "baseline_seconds": baseline_seconds,
        "independent_seconds": independent_seconds,
    }


def reads(applications: int) -> dict:
    """Demo catalog, `applications` routed moving-house applications (the submit and routing
    scenarios' own, `_portal`); a tax clerk's token and the references of the cases they read."""
    from accounts.models import User
    from workflows.models import Case
    from workflows.routing import advance

    from ._portal import prepare, submit_in_process

    token = prepare(citizens=1, clerks=True)["clerks"]["tax"]
    citizen = User.objects.get(email="bench-citizen-0@bench.invalid")
    for _ in range(Case.objects.filter(department__slug="tax").count(), applications):
        advance(application_id=submit_in_process(citizen).pk)
    refs = list(
        Case.objects.filter(department__slug="tax").values_list("reference", flat=True)[:200]
    )
    return {"token": token, "cases": refs}
