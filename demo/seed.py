"""Apply the demo catalog through the actions; idempotent (unchanged data writes nothing)."""

from __future__ import annotations

from django.db import transaction

from services import actions
from services.constants import ServiceKind, VersionStatus
from services.models import Service

from .catalog import FIELDS, SERVICES


@transaction.atomic
def seed_catalog() -> int:
    """Create or update the demo dictionary and publish the demo services; returns changes made."""
    changes = 0
    for spec in FIELDS:
        attrs = {k: v for k, v in spec.items() if k != "key"}
        attrs.setdefault("help_text", "")
        attrs.setdefault("staff_label", "")
        attrs.setdefault("translations", {})
        attrs.setdefault("choices", [])
        attrs.setdefault("validation", {})
        attrs.setdefault("profile_field", False)
        actions.field_definition_save(actor=None, key=spec["key"], **attrs)
    for spec in SERVICES:
        service = Service.objects.filter(slug=spec["slug"]).first()
        if service is None:
            service = actions.service_create(
                actor=None,
                slug=spec["slug"],
                name=spec["name"],
                description=spec["description"],
                kind=ServiceKind.LIFE_EVENT,
                keywords=spec["keywords"],
                translations=spec.get("translations", {}),
            )
            changes += 1
        elif service.translations != spec.get("translations", {}):
            actions.service_update(
                actor=None, service=service, translations=spec.get("translations", {})
            )
            changes += 1
        published = service.versions.filter(status=VersionStatus.PUBLISHED).first()
        if (
            published
            and published.fields == spec["fields"]
            and published.workflow == spec["workflow"]
        ):
            continue
        draft = actions.service_version_draft(
            actor=None, service=service, fields=spec["fields"], workflow=spec["workflow"]
        )
        actions.service_version_update(
            actor=None, version=draft, fields=spec["fields"], workflow=spec["workflow"]
        )
        actions.service_version_publish(actor=None, version=draft)
        changes += 1
    return changes
