"""The one function every action calls to record its audit event, in its own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection, models

from .constants import AuditAction
from .context import current_context
from .models import AuditEvent

if TYPE_CHECKING:
    from accounts.models import Department, User

_SCALARS = (str, int, float, bool, type(None))


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


def audit_record(
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
    """Record one audit event. Must run inside the caller's transaction (same commit or none)."""
    if not connection.in_atomic_block:
        raise AuditError("audit_record must be called inside the action's transaction")
    details = dict(details or {})
    _check_details(details)
    target_type, target_ref = target_of(target) if target is not None else ("", "")
    ctx = current_context()
    if role is None:
        role = actor.primary_role if actor is not None else "system"
    return AuditEvent.objects.create(
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
