"""Reads of the audit log: verification, supervisor search, the citizen's access log."""

from __future__ import annotations

import hmac
import os
import queue
import threading
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import Max, Q, QuerySet

from accounts.constants import Role
from accounts.models import User

from .chain import (
    CONTENT_DIGEST_SQL,
    FIELDS,
    RAW_COLUMNS_PG,
    Verification,
    sign,
    verify_links,
    verify_tuples,
)
from .constants import AuditAction
from .models import AuditCheckpoint, AuditEvent

# Staff reads of a citizen's personal data, shown on their "who looked at my data": views,
# reveals, and finding them by their national ID.
PII_ACTIONS = (AuditAction.PII_READ, AuditAction.PII_REVEAL, AuditAction.PII_SEARCH)


def audit_verify(
    *, chunk_size: int = 10_000, independent: bool = False, segment_size: int = 200_000
) -> dict[str, Any]:
    """Recompute the whole chain (streamed) and check every signed checkpoint against it.

    On PostgreSQL the database computes each event's content digest (`CONTENT_DIGEST_SQL`) and
    only the links are walked here; `independent=True` reads the raw columns instead and
    computes the same canonical bytes in Python, trusting nothing the database computes.
    A long chain is read in consecutive ranges of `chain_seq`, each on its own connection
    (one per core), so the database computes several ranges' digests at once while the links
    are still walked strictly in order here.
    """
    from .signing import signing_key

    checkpoints = {c.chain_seq: c for c in AuditCheckpoint.objects.all()}
    seen: dict[int, str] = {}
    in_database = connection.vendor == "postgresql" and not independent
    if in_database:
        columns = [
            "id",
            "chain_seq",
            "prev_hash",
            "hash",
            CONTENT_DIGEST_SQL.format(seq="chain_seq"),
        ]
    elif connection.vendor == "postgresql":
        columns = [*RAW_COLUMNS_PG, "prev_hash", "hash"]
    else:
        columns = [*FIELDS, "prev_hash", "hash"]
    hash_at = 3 if in_database else len(columns) - 1

    def rows() -> Iterator[tuple]:
        for batch in _chain_batches(columns, chunk_size=chunk_size, segment_size=segment_size):
            for row in batch:
                if row[1] in checkpoints:
                    seen[row[1]] = row[hash_at]
                yield row

    result: Verification = verify_links(rows()) if in_database else verify_tuples(rows())
    checkpoint_problem = ""
    if result.valid and checkpoints:
        kid, key = signing_key()
        for seq, checkpoint in sorted(checkpoints.items()):
            good_signature = checkpoint.key_id == kid and hmac.compare_digest(
                checkpoint.signature, sign(key, seq, checkpoint.head_hash)
            )
            if not good_signature:
                checkpoint_problem = f"checkpoint at {seq} has a bad signature"
            elif seen.get(seq) != checkpoint.head_hash:
                checkpoint_problem = f"the chain does not match the signed checkpoint at {seq}"
            if checkpoint_problem:
                event = AuditEvent.objects.filter(chain_seq__lte=seq).order_by("-chain_seq").first()
                result = Verification(
                    False, result.checked, event.pk if event else None, checkpoint_problem
                )
                break
    return {
        "valid": result.valid,
        "checked": result.checked,
        "first_invalid": result.first_invalid,
        "reason": result.reason,
        "unsealed": AuditEvent.objects.filter(chain_seq__isnull=True).count(),
        "checkpoints": len(checkpoints),
    }


def _chain_batches(
    columns: list[str], *, chunk_size: int, segment_size: int
) -> Iterator[list[tuple]]:
    """Sealed events in chain order, in batches: one server-side cursor, or on PostgreSQL with a
    long chain, consecutive `chain_seq` ranges read ahead by one thread (and connection) each.
    The first range is open below and the last open above, so no row escapes the walk."""
    table = AuditEvent._meta.db_table
    select = f"SELECT {', '.join(columns)} FROM {table} WHERE "  # noqa: S608  (constants only)

    def stream(where: str, params: list[int]) -> Iterator[list[tuple]]:
        # A server-side cursor straight to tuples: no model or dict per row.
        with connection.chunked_cursor() as cursor:
            cursor.execute(f"{select}{where} ORDER BY chain_seq", params)
            while batch := cursor.fetchmany(chunk_size):
                yield batch

    head = AuditEvent.objects.aggregate(head=Max("chain_seq"))["head"] or 0
    parts = min(os.cpu_count() or 1, 8, head // segment_size) if segment_size > 0 else 1
    if connection.vendor != "postgresql" or parts < 2:
        yield from stream("chain_seq IS NOT NULL", [])
        return
    step = -(-head // parts)
    bounds = [(i * step, (i + 1) * step) for i in range(parts)]
    wheres = [
        ("chain_seq <= %s", [bounds[0][1]]),
        *(("chain_seq > %s AND chain_seq <= %s", list(b)) for b in bounds[1:-1]),
        ("chain_seq > %s", [bounds[-1][0]]),
    ]
    stop = threading.Event()
    queues: list[queue.Queue] = [queue.Queue(maxsize=4) for _ in wheres[1:]]

    def read_ahead(where: str, params: list[int], out: queue.Queue) -> None:
        def put(item: object) -> bool:
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            for batch in stream(where, params):
                if not put(batch):
                    return
            put(None)
        except Exception as exc:  # handed to the walking thread, which raises it
            put(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=read_ahead, args=(*w, q), daemon=True)
        for w, q in zip(wheres[1:], queues, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        yield from stream(*wheres[0])
        for out in queues:
            while (item := out.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                yield item
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _id(value: str) -> int:
    """A typed user id: ASCII digits that fit an integer; anything else matches nobody."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else -1


def can_audit(user: User) -> bool:
    return user.is_authenticated and user.primary_role in (Role.SUPERVISOR, Role.ADMIN)


def audit_search(
    *,
    user: User,
    target: str = "",
    actor: str = "",
    action: str = "",
    department: str = "",
    subject: str = "",
    since: Any = None,
    until: Any = None,
) -> QuerySet[AuditEvent]:
    """Supervisor search. `target` is a reference (case, application, department...)."""
    if not can_audit(user):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.select_related("actor", "actor_department", "subject")
    if target:
        events = events.filter(Q(target_ref=target) | Q(details__application=target))
    if actor:
        events = (
            events.filter(actor__email__iexact=actor)
            if "@" in actor
            else events.filter(actor_id=_id(actor))
        )
    if action:
        events = events.filter(action=action)
    if department:
        events = events.filter(actor_department__slug=department)
    if subject:
        events = (
            events.filter(subject__email__iexact=subject)
            if "@" in subject
            else events.filter(subject_id=_id(subject))
        )
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lt=until)
    return events.order_by("-id")


def application_history(*, user: User, reference: str) -> QuerySet[AuditEvent]:
    """Everything that happened to one application across all its departments."""
    from workflows.models import Case

    if not can_audit(user):
        return AuditEvent.objects.none()
    cases = list(
        Case.objects.filter(application__reference=reference).values_list("reference", flat=True)
    )
    return (
        AuditEvent.objects.filter(
            Q(target_type="services.application", target_ref=reference)
            | Q(target_type="workflows.case", target_ref__in=cases)
            | Q(details__application=reference)
        )
        .select_related("actor", "actor_department")
        .order_by("id")
    )


def data_access_for_citizen(*, user: User) -> QuerySet[AuditEvent]:
    """Who read or revealed this citizen's personal data."""
    if not user.is_authenticated:
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(subject=user, action__in=PII_ACTIONS)
        .exclude(actor=user)
        .select_related("actor", "actor_department")
        .order_by("-id")
    )
