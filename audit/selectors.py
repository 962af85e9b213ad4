"""Reads of the audit log: verification, supervisor search, the citizen's access log."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet

from .chain import (
    BODY_DIGEST_SQL,
    BODY_FIELDS,
    CONTENT_DIGEST_SQL,
    RAW_BODY_COLUMNS_PG,
    Verification,
    body_digest,
    verify_links,
    verify_tuples,
)
from .checkpoints import as_dict, compare, read_directory
from .constants import AuditAction
from .models import AuditCheckpoint, AuditEvent, AuditIncident, AuditVerification
from .signing import event_authentic, mac_checker, signing_keys

if TYPE_CHECKING:
    from accounts.models import User

# The parts of an application that live in higher layers (its cases, for one): each returns a
# filter on events that belong to the application with the given reference. The apps that own
# those parts register here when they are ready, so the audit layer never imports them.
_APPLICATION_PARTS: list[Callable[[str], Q]] = []


def register_application_part(events_of: Callable[[str], Q]) -> None:
    """Count the events `events_of(reference)` selects in an application's history."""
    if events_of not in _APPLICATION_PARTS:
        _APPLICATION_PARTS.append(events_of)


# Staff reads of a citizen's personal data, shown on their "who looked at my data": views,
# reveals, and finding them by their national ID.
# What "who looked at my data" lists: reads, reveals, searches, and the sharing of a case for
# an opinion (with whom, why), after which the consultee's own reads follow.
PII_ACTIONS = (
    AuditAction.PII_READ,
    AuditAction.PII_REVEAL,
    AuditAction.PII_SEARCH,
    AuditAction.CASE_SHARE,
    # A webhook carried the case's answers to the department's own system.
    AuditAction.WEBHOOK_DELIVER,
)
_CONFIGURED = object()  # "read the exported checkpoints from the configured folder"


def audit_verify(
    *,
    chunk_size: int = 10_000,
    independent: bool = False,
    segment_size: int = 50_000,
    exported: list[dict[str, Any]] | object | None = _CONFIGURED,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Recompute the whole chain (streamed), check every event's authenticator, and check the
    chain against the signed checkpoints in the database and in the export.

    On PostgreSQL the database computes each event's body digest (`BODY_DIGEST_SQL`) and only
    the authenticators and links are checked here; `independent=True` reads the raw columns
    instead and computes the same canonical bytes in Python, trusting nothing the database
    computes. A long chain is read in consecutive ranges of `chain_seq`, each on its own
    connection (one per core), while the links are still walked strictly in order here.
    `exported` is the exported series of checkpoints (by default read from
    `AUDIT_CHECKPOINT_DIR`; None when there is none to compare with). `progress`, when given,
    is called with the number of events read so far after each batch.
    """
    if exported is _CONFIGURED:
        exported = read_directory(settings.AUDIT_CHECKPOINT_DIR)
    keys = signing_keys()
    mac_ok = mac_checker()
    database = [as_dict(c) for c in AuditCheckpoint.objects.all()]
    wanted = {c["chain_seq"] for c in database} | {
        c.get("chain_seq") for c in exported or [] if isinstance(c.get("chain_seq"), int)
    }
    seen: dict[int, str] = {}
    in_database = connection.vendor == "postgresql" and not independent
    if in_database:
        columns = ["id", "chain_seq", "prev_hash", "hash", "mac", "body", CONTENT_DIGEST_SQL]
    elif connection.vendor == "postgresql":
        columns = ["id", "chain_seq", *RAW_BODY_COLUMNS_PG, "mac", "prev_hash", "hash"]
    else:
        columns = ["id", "chain_seq", *BODY_FIELDS, "mac", "prev_hash", "hash"]
    hash_at = 3 if in_database else len(columns) - 1
    read = [0]

    def rows() -> Iterator[tuple]:
        for batch in _chain_batches(
            columns, chunk_size=chunk_size, segment_size=segment_size, digests=in_database
        ):
            for row in batch:
                if row[1] in wanted:
                    seen[row[1]] = row[hash_at]
                yield row
            if progress is not None:
                read[0] += len(batch)
                progress(read[0])

    result: Verification = (
        verify_links(rows(), mac_ok) if in_database else verify_tuples(rows(), mac_ok)
    )
    head = result.checked if result.valid else None
    warnings: list[str] = []
    if result.valid:
        result = (
            _duplicates(result, independent=independent)
            or _forged_pending(result, mac_ok)
            or result
        )
    if result.valid:
        position: int | None = None
        problem, warnings = compare(database, exported, keys)
        if not problem:
            position, problem = _against_chain([*database, *(exported or [])], seen, head or 0)
        if problem:
            result = Verification(False, result.checked, _event_at(position), problem)
    return {
        "valid": result.valid,
        "checked": result.checked,
        "first_invalid": result.first_invalid,
        "reason": result.reason,
        "unsealed": AuditEvent.objects.filter(chain_seq__isnull=True).count(),
        "checkpoints": len(database),
        "exported_checkpoints": None if exported is None else len(exported),
        "incidents": AuditIncident.objects.count(),
        "warnings": warnings,
    }


def _against_chain(
    checkpoints: list[dict[str, Any]], seen: dict[int, str], head: int
) -> tuple[int | None, str]:
    """The first checkpoint the chain disagrees with, as (chain position, reason)."""
    for checkpoint in sorted(checkpoints, key=lambda c: c["chain_seq"]):
        seq = checkpoint["chain_seq"]
        if seq > head:
            return (
                head,
                f"events after position {head} were removed: checkpoint "
                f"{checkpoint['number']} covers {seq} events",
            )
        if seen.get(seq) != checkpoint["head_hash"]:
            return seq, f"the chain does not match the signed checkpoint {checkpoint['number']}"
    return None, ""


def _event_at(position: int | None) -> int | None:
    """The event at (or just before) a chain position, if any."""
    if position is None:
        return None
    return (
        AuditEvent.objects.filter(chain_seq__lte=position, chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values_list("pk", flat=True)
        .first()
    )


def _duplicates(result: Verification, *, independent: bool) -> Verification | None:
    """Two events with one nonce: a copy of a genuine event (its authenticator is valid).

    While PostgreSQL holds a valid unique index on the nonce, no two rows can share one (only a
    superuser could bend its catalog), so the table is scanned only when the index is missing
    or invalid, on SQLite, or in the independent mode that trusts no database machinery."""
    if not independent and _nonce_index_holds():
        return None
    copy = (
        AuditEvent.objects.exclude(nonce=None)
        .order_by()
        .values("nonce")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("nonce", flat=True)[:1]
    )
    copy = next(iter(copy), None)
    if copy is None:
        return None
    second = AuditEvent.objects.filter(nonce=copy).order_by("id").values_list("pk", flat=True)
    return Verification(False, result.checked, list(second)[-1], "a copy of another event")


def _nonce_index_holds() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_catalog.pg_index i "
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisunique AND i.indisvalid "
            "AND i.indnatts = 1 AND i.indpred IS NULL AND a.attname = 'nonce'",
            [AuditEvent._meta.db_table],
        )
        return cursor.fetchone() is not None


def _forged_pending(result: Verification, mac_ok) -> Verification | None:
    """An event waiting to be sealed (or refused by the sealer) with a wrong authenticator."""
    pending = AuditEvent.objects.filter(chain_seq__isnull=True).order_by("id")
    for row in pending.values_list("id", "mac", *BODY_FIELDS).iterator(chunk_size=1000):
        if not mac_ok(row[1], body_digest(row[2:])):
            return Verification(
                False,
                result.checked,
                row[0],
                "an event not written by the portal (bad authenticator) was refused by the sealer",
            )
    return None


def _chain_batches(
    columns: list[str], *, chunk_size: int, segment_size: int, digests: bool = False
) -> Iterator[list[tuple]]:
    """Sealed events in chain order, in batches: one server-side cursor, or on PostgreSQL with a
    long chain, consecutive `chain_seq` ranges read ahead by one thread (and connection) each.
    The first range is open below and the last open above, so no row escapes the walk.
    With `digests`, each row also has its body digest as `body` (computed once per row: the
    lateral subquery with OFFSET 0 is not folded into the select list)."""
    table = AuditEvent._meta.db_table
    source = table
    if digests:
        source = f"{table} CROSS JOIN LATERAL (SELECT {BODY_DIGEST_SQL} AS body OFFSET 0) AS d"
    select = f"SELECT {', '.join(columns)} FROM {source} WHERE "  # noqa: S608  (constants only)

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
    # Every range is read ahead by a thread of its own, the first one too: the walk here then
    # only checks digests while PostgreSQL computes the next ranges' on the other core(s).
    stop = threading.Event()
    queues: list[queue.Queue] = [queue.Queue(maxsize=4) for _ in wheres]

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
        for w, q in zip(wheres, queues, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
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


def _person(field: str, value: str) -> Q:
    """Events whose `field` (actor or subject) is the user with this email address or id."""
    if "@" in value:
        return Q(**{f"{field}__email__iexact": value})
    return Q(**{f"{field}_id": _id(value)})


def can_audit(user: User) -> bool:
    """Searches and reads the whole audit log: the model-wide `audit.view_auditevent`
    permission (supervisors through their role, administrators as superusers)."""
    return bool(user.is_authenticated and user.is_active and user.has_perm("audit.view_auditevent"))


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
    conditions = (
        (target, lambda v: Q(target_ref=v) | Q(details__application=v)),
        (actor, lambda v: _person("actor", v)),
        (action, lambda v: Q(action=v)),
        (department, lambda v: Q(actor_department__slug=v)),
        (subject, lambda v: _person("subject", v)),
        (since, lambda v: Q(occurred_at__gte=v)),
        (until, lambda v: Q(occurred_at__lt=v)),
    )
    events = AuditEvent.objects.select_related("actor", "actor_department", "subject")
    for value, condition in conditions:
        if value:  # an empty filter filters nothing
            events = events.filter(condition(value))
    return events.order_by("-id")


def application_history(*, user: User, reference: str) -> QuerySet[AuditEvent]:
    """Everything that happened to one application across all its departments."""
    if not can_audit(user):
        return AuditEvent.objects.none()
    belongs = Q(target_type="services.application", target_ref=reference) | Q(
        details__application=reference
    )
    for events_of in _APPLICATION_PARTS:
        belongs |= events_of(reference)
    return (
        AuditEvent.objects.filter(belongs)
        .select_related("actor", "actor_department", "subject")
        .order_by("id")
    )


def data_access_for_citizen(*, user: User) -> QuerySet[AuditEvent]:
    """Who read or revealed this citizen's personal data."""
    if not user.is_authenticated:
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(subject=user, action__in=PII_ACTIONS)
        .exclude(actor=user)
        .exclude(id__in=AuditIncident.objects.filter(event_id__isnull=False).values("event_id"))
        .select_related("actor", "actor_department")
        .order_by("-id")
    )


def authentic(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The events whose authenticator holds: what a person is shown as having happened. An
    event someone wrote into the table behind the portal's back is left out (and is named by
    the sealer and by verification)."""
    mac_ok = mac_checker()
    return [e for e in events if event_authentic(e, mac_ok)]


def audit_verification_latest() -> AuditVerification | None:
    """The newest verification of the audit log (the caller checked `can_audit`)."""
    return AuditVerification.objects.order_by("-created_at").first()


def audit_verification(*, job_id: Any) -> AuditVerification | None:
    return AuditVerification.objects.filter(pk=job_id).first()
