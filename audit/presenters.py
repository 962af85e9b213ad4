"""How audit events are shown to supervisors and to citizens (one place for both views)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from .constants import AuditAction
from .models import AuditEvent
from .purposes import PurposeReader
from .signing import event_authentic, mac_checker

_LABELS = dict(AuditAction.choices)


def _purpose(event: AuditEvent, purposes: PurposeReader | None) -> dict[str, Any]:
    """The purpose in clear, or "erased" once erasure destroyed its data key (a wrong key or a
    damaged token raises)."""
    opened = (purposes or PurposeReader()).open(event)
    return {
        "purpose": _("erased") if opened.erased else opened.text,
        "purpose_erased": opened.erased,
    }


def event_row(
    event: AuditEvent, purposes: PurposeReader | None = None, mac_ok=None
) -> dict[str, Any]:
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
        **_purpose(event, purposes),
        "request_id": event.request_id,
        "ip": event.ip,
        "details": event.details,
        "sealed": bool(event.hash),
        "authentic": event_authentic(event, mac_ok),
    }


def event_rows(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    """`event_row` for a page of events, their purposes' data keys read in one query."""
    events = list(events)
    purposes = PurposeReader().prefetch(events)
    mac_ok = mac_checker()
    return [event_row(e, purposes, mac_ok) for e in events]


def access_rows(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    events = list(events)
    purposes = PurposeReader().prefetch(events)
    return [access_row(e, purposes) for e in events]


def access_row(event: AuditEvent, purposes: PurposeReader | None = None) -> dict[str, Any]:
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
        **_purpose(event, purposes),
        "case": event.target_ref if event.target_type == "workflows.case" else None,
    }
