"""The one function every action calls to record its audit event, in its own transaction."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from core.context import current_context
from core.roles import Role

from .chain import (
    BODY_DIGEST_SQL,
    BODY_FIELDS,
    GENESIS,
    body_digest,
    content_digest,
    link_digest,
    mac_of,
)
from .checkpoints import CheckpointConflict, as_dict, exporters, sign
from .constants import AuditAction
from .models import AuditCheckpoint, AuditEvent, AuditIncident, AuditIncidentKind
from .signing import event_mac_key, mac_checker, signing_key

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from accounts.models import Department, User

# No floats: the canonical form must render every value the same in Python and PostgreSQL.
_SCALARS = (str, int, bool, type(None))


class AuditError(RuntimeError):
    """Raised when an event is recorded outside a transaction or with unusable details."""


def _check_details(details: dict[str, Any]) -> None:
    # Details hold identifiers and field *names*, never personal values; keep them small and flat.
    for key, value in details.items():
        if not isinstance(key, str):
            raise AuditError("audit detail keys must be strings")
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, _SCALARS) for v in values):
            raise AuditError(f"audit detail {key!r} must be a scalar or a list of scalars")


def target_of(obj: models.Model) -> tuple[str, str]:
    """The (type, reference) an audit event uses for a model instance."""
    ref = getattr(obj, "audit_ref", None) or str(obj.pk)
    return obj._meta.label_lower, str(ref)


def _event(
    *,
    action: AuditAction | str,
    actor: User | None,
    target: models.Model | None = None,
    subject: User | None = None,
    department: Department | None = None,
    role: str | None = None,
    purpose: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    details = dict(details or {})
    _check_details(details)
    target_type, target_ref = target_of(target) if target is not None else ("", "")
    ctx = current_context()
    if role is None:
        role = actor.primary_role if actor is not None else "system"
    # A department's system (a service account) acts under an official answerable for it: the
    # actor says who (`audit_responsible`, read from the user row; None for a person).
    # Its role is always `system`, whatever department role the caller read for it.
    if getattr(actor, "is_service_account", False):
        role = Role.SYSTEM
        details["responsible"] = actor.audit_responsible
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor,
        actor_role=role,
        actor_department=department,
        action=str(action),
        target_type=target_type,
        target_ref=target_ref,
        subject=subject,
        purpose=purpose,
        request_id=ctx.request_id,
        source=ctx.source,
        ip=ctx.ip or None,
        details=details,
        nonce=new_nonce(),
    )
    event.mac = authenticate(event)
    return event


def new_nonce() -> str:
    """32 hex characters, unique per event: the time in microseconds, then 72 random bits.
    Time first keeps the unique index on the nonce growing at its right edge, like the id's,
    instead of touching a random page of it on every insert."""
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(9)}"


def authenticate(event: AuditEvent) -> str:
    """The authenticator of an event's body (audit/chain.py), with the key outside the
    database. Also used by tools that write events in bulk (the benchmark seeder)."""
    kid, key = event_mac_key()
    values = [getattr(event, f) for f in BODY_FIELDS]
    return mac_of(kid, key, body_digest(values))


def _in_transaction() -> None:
    if not connection.in_atomic_block:
        raise AuditError("audit_record must be called inside the action's transaction")


def audit_record(**event: Any) -> AuditEvent:
    """Record one audit event. Must run inside the caller's transaction (same commit or none).

    Takes `action`, `actor`, and optionally `target`, `subject`, `department`, `role`,
    `purpose` and `details` (ids and field keys, never personal values). An actor that is a
    service account adds `details["responsible"]`, the id of its responsible official."""
    _in_transaction()
    built = _event(**event)
    built.save(force_insert=True)
    return built


def audit_record_many(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Record several events (each as `audit_record` takes them) in one insert, in order."""
    _in_transaction()
    return AuditEvent.objects.bulk_create([_event(**event) for event in events])


def _locked_head() -> dict[str, Any] | None:
    """Take the sealer's lock (PostgreSQL; SQLite writers queue anyway) for the caller's
    transaction and read the chain head: {"chain_seq", "hash"}, or None for an empty chain."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK_ID])
    return (
        AuditEvent.objects.filter(chain_seq__isnull=False)
        .order_by("-chain_seq")
        .values("chain_seq", "hash")
        .first()
    )


def audit_seal(*, batch: int = 5000) -> int:
    """Chain the unsealed events after the head, in id order (one sealer at a time).

    Events are written without a hash, so writers never wait on one lock; the sealer links
    them in the background, as transparency logs do. An event whose authenticator is wrong was
    not written by the portal: it is never chained, and an incident names it. Returns how many
    events it sealed.
    """
    table = AuditEvent._meta.db_table
    incidents = AuditIncident._meta.db_table
    mac_ok = mac_checker()
    with transaction.atomic():
        head = _locked_head()
        seq, prev = (head["chain_seq"], head["hash"]) if head else (0, GENESIS)
        pending_sql = (
            f"FROM {table} WHERE chain_seq IS NULL AND NOT EXISTS ("  # noqa: S608  (constants)
            f"SELECT 1 FROM {incidents} i WHERE i.event_id = {table}.id) ORDER BY id LIMIT %s"
        )
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # PostgreSQL renders each body next to the data; only digests come back.
                cursor.execute(f"SELECT id, mac, {BODY_DIGEST_SQL} {pending_sql}", [batch])
                pending = [(pk, mac, bytes(body)) for pk, mac, body in cursor.fetchall()]
            else:
                columns = ", ".join(BODY_FIELDS)
                cursor.execute(f"SELECT id, mac, {columns} {pending_sql}", [batch])
                pending = [(row[0], row[1], body_digest(row[2:])) for row in cursor.fetchall()]
        sealed: list[tuple[int, int, str, str]] = []
        forged: list[int] = []
        for pk, mac, body in pending:
            if not mac_ok(mac, body):
                forged.append(pk)
                continue
            seq += 1
            digest = link_digest(prev, content_digest(pk, seq, mac, body))
            sealed.append((pk, seq, prev, digest))
            prev = digest
        _write_seals(sealed)
        if forged:
            _forged_events(forged)
    return len(sealed)


def _forged_events(ids: list[int]) -> None:
    """Quarantine events with a wrong authenticator: an incident each, never chained."""
    AuditIncident.objects.bulk_create(
        [
            AuditIncident(
                kind=AuditIncidentKind.FORGED_EVENT,
                event_id=pk,
                detail="wrong authenticator: not written by the portal, or changed since",
            )
            for pk in ids
        ],
        ignore_conflicts=True,
    )
    audit_record(
        action=AuditAction.AUDIT_INCIDENT,
        actor=None,
        details={"kind": AuditIncidentKind.FORGED_EVENT.value, "events": ids[:100]},
    )
    logger.error(
        "audit: %d event(s) with a wrong authenticator refused by the sealer",
        len(ids),
        extra={"events": ids[:100]},
    )


def _write_seals(sealed: list[tuple[int, int, str, str]]) -> None:
    """One UPDATE … FROM (VALUES …) per thousand events on PostgreSQL (bulk_update's CASE
    expressions are far slower at this size); executemany on SQLite."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for start in range(0, len(sealed), 1000):
                chunk = sealed[start : start + 1000]
                values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                cursor.execute(
                    f"UPDATE {table} AS e "  # noqa: S608  (table name and placeholders only)
                    "SET chain_seq = v.seq, prev_hash = v.prev, hash = v.digest "
                    f"FROM (VALUES {values}) AS v(id, seq, prev, digest) WHERE e.id = v.id",
                    [x for item in chunk for x in item],
                )
        else:
            cursor.executemany(
                f"UPDATE {table} SET chain_seq = %s, prev_hash = %s, hash = %s WHERE id = %s",  # noqa: S608
                [(seq, prev, digest, pk) for pk, seq, prev, digest in sealed],
            )


SEALER_LOCK_ID = 7_110_001


def audit_checkpoint(*, force: bool = False, now: datetime | None = None) -> AuditCheckpoint | None:
    """Sign the chain head when a checkpoint is due, and hand it to the exporters.

    Due when the chain has grown by `AUDIT_CHECKPOINT_EVERY_EVENTS` events since the last
    checkpoint, or has grown at all and the last one is `AUDIT_CHECKPOINT_SECONDS` old (or
    when `force`d). Each checkpoint signs its number, the head and the previous signature.
    """
    now = now or timezone.now()
    with transaction.atomic():
        head = _locked_head()
        last = AuditCheckpoint.objects.filter(number__isnull=False).order_by("-number").first()
        if head is None or (last is not None and last.chain_seq >= head["chain_seq"]):
            return None
        if not force and last is not None:
            grown = head["chain_seq"] - last.chain_seq
            age = (now - last.created_at).total_seconds()
            if grown < settings.AUDIT_CHECKPOINT_EVERY_EVENTS and (
                age < settings.AUDIT_CHECKPOINT_SECONDS
            ):
                return None
        kid, key = signing_key()
        checkpoint = AuditCheckpoint(
            number=last.number + 1 if last else 1,
            chain_seq=head["chain_seq"],
            head_hash=head["hash"],
            prev_signature=last.signature if last else "",
            key_id=kid,
            created_at=now,
        )
        checkpoint.signature = sign(key, as_dict(checkpoint))
        checkpoint.save(force_insert=True)
        transaction.on_commit(lambda: audit_export_checkpoints(recent=3))
    return checkpoint


def audit_export_checkpoints(*, recent: int | None = None) -> int:
    """Hand the newest `recent` checkpoints (all when None) to every exporter, oldest first.

    Exporters are idempotent, so handing a checkpoint over again is harmless; an exporter that
    holds a different checkpoint of the same number opens an incident (the database's series
    was rewritten). Returns how many checkpoints were handed over."""
    rows = AuditCheckpoint.objects.filter(number__isnull=False).order_by("-number")
    checkpoints = [as_dict(c) for c in reversed(list(rows[:recent] if recent else rows))]
    for export in exporters():
        for checkpoint in checkpoints:
            try:
                export(checkpoint)
            except CheckpointConflict as exc:
                _export_conflict(str(exc))
            except OSError:
                logger.exception("audit: a checkpoint could not be exported; retried later")
                break
    return len(checkpoints)


def _export_conflict(detail: str) -> None:
    logger.error("audit: %s", detail)
    with transaction.atomic():
        incident, created = AuditIncident.objects.get_or_create(
            kind=AuditIncidentKind.EXPORT_MISMATCH, event_id=None, detail=detail[:300]
        )
        if created:
            audit_record(
                action=AuditAction.AUDIT_INCIDENT,
                actor=None,
                details={"kind": incident.kind, "incident": incident.pk},
            )


def audit_export_record(*, actor: Any, filters: dict[str, str], rows: int) -> None:
    """The export of audit events is itself an audited action."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.AUDIT_EXPORT,
            actor=actor,
            details={**{k: v for k, v in filters.items() if v}, "rows": rows},
        )
