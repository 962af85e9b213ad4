"""How audit events are shown to supervisors and to citizens (one place for both views)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from core.roles import Role
from core.translations import translated

from .constants import AuditAction, event_name
from .models import AuditEvent
from .purposes import PurposeReader
from .signing import event_authentic, mac_checker

# The labels of data-dictionary fields, filled by the catalog (`services.apps`), which sits
# above this layer: labeller(keys, staff=...) -> {key: label in the active language}. Without
# it the keys themselves are shown.
_FIELD_LABELLER: list[Callable[..., dict[str, str]]] = []


def set_field_labeller(labeller: Callable[..., dict[str, str]]) -> None:
    _FIELD_LABELLER[:] = [labeller]


def field_labels(keys: Iterable[str], *, staff: bool) -> list[str]:
    """The labels of fields named in an event's details: staff wording for staff, the citizen's
    for the citizen; a key the catalog does not know stays as it is."""
    keys = [k for k in keys if isinstance(k, str)]
    labels = _FIELD_LABELLER[0](keys, staff=staff) if _FIELD_LABELLER and keys else {}
    return [labels.get(k) or _account_field_label(k) for k in keys]


def _account_field_label(key: str) -> str:
    """A changed fact of an account (`user.update` names them): the user model's own label;
    the authenticator app, which is not a field, by name; anything else as it is."""
    if key == "totp":
        return _("authenticator app")
    try:
        return str(get_user_model()._meta.get_field(key).verbose_name)
    except FieldDoesNotExist:
        return key


def role_label(role: str) -> str:
    """The role an action was taken in, as a person reads it; "system" for the portal itself."""
    if not role or role == "system":
        return _system()
    try:
        return str(Role(role).label)
    except ValueError:
        return role


def person_name(user: Any) -> str | None:
    """How a person is named on audit pages: their name, else their email; never their id. A
    department's system (a service account) is named as such, by its label."""
    if user is None:
        return None
    if getattr(user, "is_service_account", False):
        return _("Department system: %(label)s") % {"label": user.service_label or user.email}
    return user.full_name or user.email


def _system() -> str:
    return _("System")


def _actor_name(event: AuditEvent) -> str:
    """Who acted, as people read it: the person; a department's system by its label (a
    webhook delivery names it in `details.system`); else the portal itself."""
    name = person_name(event.actor)
    if name:
        return name
    system = (event.details or {}).get("system") if event.actor_role == Role.SYSTEM else None
    if system is not None:
        return _("%(role)s: %(name)s") % {"role": Role.SYSTEM.label, "name": system or "—"}
    return _system()


def _behalf_id(event: AuditEvent) -> int | None:
    """The user an event's actor acted on behalf of (a delegation lent the access): the id in
    `details.on_behalf_of`, or None."""
    pk = (event.details or {}).get("on_behalf_of")
    return pk if isinstance(pk, int) and not isinstance(pk, bool) else None


class BehalfReader:
    """The absent colleagues events were recorded on behalf of, read in one query for a page
    of events (`prefetch`), or one at a time (an export's stream)."""

    def __init__(self) -> None:
        self._users: dict[int, Any] = {}

    def prefetch(self, events: Iterable[AuditEvent]) -> BehalfReader:
        wanted = {pk for pk in map(_behalf_id, events) if pk is not None} - set(self._users)
        if wanted:
            self._users.update(get_user_model().objects.in_bulk(wanted))
        return self

    def user(self, event: AuditEvent) -> Any:
        pk = _behalf_id(event)
        if pk is None:
            return None
        if pk not in self._users:
            self._users[pk] = get_user_model().objects.filter(pk=pk).first()
        return self._users[pk]


def _behalf(event: AuditEvent, behalf: BehalfReader | None) -> dict[str, Any]:
    """Who the actor acted for: their email and name, and what people read, "X on behalf of
    Y" (the actor's name alone when they acted in their own right)."""
    absent = (behalf or BehalfReader()).user(event)
    actor = _actor_name(event)
    if absent is None:
        return {"on_behalf_of": None, "on_behalf_of_name": None, "actor_line": actor}
    name = person_name(absent)
    return {
        "on_behalf_of": absent.email,
        "on_behalf_of_name": name,
        "actor_line": _("%(actor)s on behalf of %(absent)s") % {"actor": actor, "absent": name},
    }


def _purpose(event: AuditEvent, purposes: PurposeReader | None) -> dict[str, Any]:
    """The purpose in clear, or "erased" once erasure destroyed its data key (a wrong key or a
    damaged token raises)."""
    opened = (purposes or PurposeReader()).open(event)
    return {
        "purpose": _("erased") if opened.erased else opened.text,
        "purpose_erased": opened.erased,
    }


def event_row(
    event: AuditEvent,
    purposes: PurposeReader | None = None,
    mac_ok=None,
    behalf: BehalfReader | None = None,
) -> dict[str, Any]:
    return {
        "seq": event.pk,
        "at": event.occurred_at,
        "actor": event.actor.email if event.actor else None,
        "role": event.actor_role,
        "role_label": role_label(event.actor_role),
        "department": event.actor_department.slug if event.actor_department else None,
        "actor_name": _actor_name(event),
        **_behalf(event, behalf),
        "department_name": translated(event.actor_department, "name")
        if event.actor_department
        else None,
        "action": event.action,
        "action_label": event_name(event.action),
        "target_type": event.target_type,
        "target": event.target_ref,
        "subject": event.subject_id,
        "subject_email": event.subject.email if event.subject_id else None,
        "field_labels": field_labels(_fields(event), staff=True),
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
    behalf = BehalfReader().prefetch(events)
    return [event_row(e, purposes, mac_ok, behalf) for e in events]


def _fields(event: AuditEvent) -> list:
    fields = (event.details or {}).get("fields", [])
    return fields if isinstance(fields, list) else []


def access_rows(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    events = list(events)
    purposes = PurposeReader().prefetch(events)
    consultees = Consultees(events)
    behalf = BehalfReader().prefetch(events)
    return [access_row(e, purposes, consultees, behalf) for e in events]


class Consultees:
    """The names of those a case was shared with (`case.share` names a department by its slug
    or an official by their id): a department in the reader's language, an official by name;
    each kind read in one query for a page of events."""

    def __init__(self, events: Iterable[AuditEvent]) -> None:
        shares = [e.details or {} for e in events if e.action == AuditAction.CASE_SHARE]
        slugs = {d.get("consultee_department") for d in shares} - {None}
        ids = {d.get("consultee_official") for d in shares} - {None}
        # The department model, as the audit event's own foreign key names it (a layer above).
        departments = AuditEvent._meta.get_field("actor_department").related_model
        self.departments = {
            d.slug: translated(d, "name") for d in departments.objects.filter(slug__in=slugs)
        }
        self.officials = {u.pk: person_name(u) for u in get_user_model().objects.filter(pk__in=ids)}

    def name(self, details: dict[str, Any]) -> str | None:
        slug, official = details.get("consultee_department"), details.get("consultee_official")
        if slug is not None:
            return self.departments.get(slug, slug)
        if official is not None:
            return self.officials.get(official) or _("an official")
        return None


def access_row(
    event: AuditEvent,
    purposes: PurposeReader | None = None,
    consultees: Consultees | None = None,
    behalf: BehalfReader | None = None,
) -> dict[str, Any]:
    """What a citizen sees of a read of their data: who (staff name or email), which department
    (its name in the citizen's language), which facts (their labels, as the citizen's forms
    name them), why."""
    actor = event.actor
    department = translated(event.actor_department, "name") if event.actor_department else None
    return {
        "at": event.occurred_at,
        "staff": person_name(actor),
        "staff_id": actor.pk if actor else None,
        **_behalf(event, behalf),
        "department": department,
        "department_name": department,
        "action": event.action,
        "action_label": event_name(event.action),
        "fields": event.details.get("fields", []),
        "field_labels": field_labels(_fields(event), staff=False),
        **_purpose(event, purposes),
        "case": event.target_ref if event.target_type == "workflows.case" else None,
        # A case shared for an opinion: with whom (a department's name or an official's).
        "shared_with": (consultees or Consultees([event])).name(event.details or {})
        if event.action == AuditAction.CASE_SHARE
        else None,
        # A read or reveal by someone the case was shared with (workflows.consultations).
        "consulted": bool((event.details or {}).get("consultations")),
    }
