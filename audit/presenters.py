"""How audit events are shown to supervisors and to citizens (one place for both views)."""

from __future__ import annotations

from typing import Any

from .constants import AuditAction
from .models import AuditEvent

_LABELS = dict(AuditAction.choices)


def event_row(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.pk,
        "at": event.occurred_at,
        "actor": event.actor.email if event.actor else None,
        "role": event.actor_role,
        "department": event.actor_department.slug if event.actor_department else None,
        "action": event.action,
        "action_label": str(_LABELS.get(event.action, event.action)),
        "target_type": event.target_type,
        "target": event.target_ref,
        "subject": event.subject_id,
        "purpose": event.purpose,
        "request_id": event.request_id,
        "ip": event.ip,
        "details": event.details,
        "sealed": bool(event.hash),
    }


def access_row(event: AuditEvent) -> dict[str, Any]:
    """What a citizen sees of a read of their data: who (staff name or id), where, what, why."""
    actor = event.actor
    return {
        "at": event.occurred_at,
        "staff": (actor.full_name or f"staff #{actor.pk}") if actor else None,
        "staff_id": actor.pk if actor else None,
        "department": event.actor_department.name if event.actor_department else None,
        "action": event.action,
        "action_label": str(_LABELS.get(event.action, event.action)),
        "fields": event.details.get("fields", []),
        "purpose": event.purpose,
        "case": event.target_ref if event.target_type == "workflows.case" else None,
    }
