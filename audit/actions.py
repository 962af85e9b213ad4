"""The one function every action calls to record its audit event, in its own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection, models

from .constants import AuditAction
from .context import current_context
from .models import AuditCheckpoint, AuditEvent

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
    return AuditEvent(
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
        ip=ctx.ip,
        details=details,
    )


def _in_transaction() -> None:
    if not connection.in_atomic_block:
        raise AuditError("audit_record must be called inside the action's transaction")


def audit_record(**event: Any) -> AuditEvent:
    """Record one audit event. Must run inside the caller's transaction (same commit or none).

    Takes `action`, `actor`, and optionally `target`, `subject`, `department`, `role`,
    `purpose` and `details` (ids and field keys, never personal values)."""
    _in_transaction()
    built = _event(**event)
    built.save(force_insert=True)
    return built


def audit_record_many(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Record several events (each as `audit_record` takes them) in one insert, in order."""
    _in_transaction()
    return AuditEvent.objects.bulk_create([_event(**event) for event in events])


def audit_seal(*, batch: int = 5000) -> int:
    """Chain the unsealed events after the head, in id order (one sealer at a time).

    Events are written without a hash, so writers never wait on one lock; the sealer links
    them in the background, as transparency logs do. Returns how many it sealed.
    """
    from django.db import transaction

    from .chain import CONTENT_DIGEST_SQL, FIELDS, GENESIS, link, link_digest

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK_ID])
        head = (
            AuditEvent.objects.filter(chain_seq__isnull=False)
            .order_by("-chain_seq")
            .values("chain_seq", "hash")
            .first()
        )
        seq, prev = (head["chain_seq"], head["hash"]) if head else (0, GENESIS)
        sealed: list[tuple[int, int, str, str]] = []
        if connection.vendor == "postgresql":
            # PostgreSQL computes each event's content digest at the position it is given;
            # only the links are made here.
            table = AuditEvent._meta.db_table
            digest_sql = CONTENT_DIGEST_SQL.format(seq="seq")
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, seq, {digest_sql} FROM ("  # noqa: S608  (constants only)
                    f"  SELECT e.*, %s + row_number() OVER (ORDER BY e.id) AS seq FROM ("
                    f"    SELECT * FROM {table} WHERE chain_seq IS NULL ORDER BY id LIMIT %s"
                    "  ) AS e"
                    ") AS numbered ORDER BY id",
                    [seq, batch],
                )
                for pk, position, content in cursor.fetchall():
                    digest = link_digest(prev, bytes(content))
                    sealed.append((pk, position, prev, digest))
                    prev = digest
        else:
            recorded = [f for f in FIELDS if f != "chain_seq"]
            pending = AuditEvent.objects.filter(chain_seq__isnull=True).order_by("id")
            for row in pending.values(*recorded)[:batch]:
                seq += 1
                row["chain_seq"] = seq
                digest = link(prev, row)
                sealed.append((row["id"], seq, prev, digest))
                prev = digest
        _write_seals(sealed)
    return len(sealed)


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


def audit_checkpoint() -> AuditCheckpoint | None:
    """Sign the current chain head with the key kept outside the database."""
    from django.db import transaction

    from .chain import sign
    from .signing import signing_key

    with transaction.atomic():
        head = AuditEvent.objects.filter(chain_seq__isnull=False).order_by("-chain_seq").first()
        if head is None or AuditCheckpoint.objects.filter(chain_seq=head.chain_seq).exists():
            return None
        kid, key = signing_key()
        return AuditCheckpoint.objects.create(
            chain_seq=head.chain_seq,
            head_hash=head.hash,
            signature=sign(key, head.chain_seq, head.hash),
            key_id=kid,
        )


def audit_export_record(*, actor: Any, filters: dict[str, str], rows: int) -> None:
    """The export of audit events is itself an audited action."""
    from django.db import transaction

    with transaction.atomic():
        audit_record(
            action=AuditAction.AUDIT_EXPORT,
            actor=actor,
            details={**{k: v for k, v in filters.items() if v}, "rows": rows},
        )
