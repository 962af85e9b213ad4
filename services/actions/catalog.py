"""Writes on the catalog: services, their versions (draft, update, publish) and the data
dictionary's fields. Each changes the catalog's stamp, so every process reads it again."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, User
from audit.actions import audit_record
from audit.constants import AuditAction
from core.translations import problems as translation_problems

from ..constants import VersionStatus
from ..definitions import validate_version
from ..errors import InvalidInput, WrongState
from ..models import FieldDefinition, Service, ServiceVersion
from ..selectors import catalog_changed, dictionary

FIELD_TEXTS = ("label", "staff_label", "help_text")
SERVICE_TEXTS = ("name", "description", "keywords")


def field_translation_problems(field: FieldDefinition) -> list[str]:
    """Problems of a field's translations and of its choices' (core.translations)."""
    found = translation_problems(field.translations, attrs=FIELD_TEXTS, where=field.key)
    for choice in field.choices if isinstance(field.choices, list) else []:
        if isinstance(choice, dict):
            where = f"{field.key}: {choice.get('value')}"
            found += translation_problems(choice.get("translations"), attrs=["label"], where=where)
    return found


def _check_service_translations(translations: Any, slug: str) -> None:
    found = translation_problems(translations, attrs=SERVICE_TEXTS, where=slug)
    if found:
        raise InvalidInput(
            _("The service's translations have problems."), errors={"translations": found}
        )


@transaction.atomic
def service_create(
    *,
    actor: User | None,
    slug: str,
    name: str,
    description: str = "",
    kind: str,
    keywords: str = "",
    translations: dict | None = None,
) -> Service:
    if Service.objects.filter(slug=slug).exists():
        raise InvalidInput(
            _("A service with this slug already exists."), errors={"slug": [_("Already used.")]}
        )
    _check_service_translations(translations, slug)
    service = Service.objects.create(
        slug=slug,
        name=name,
        description=description,
        kind=kind,
        keywords=keywords,
        translations=translations or {},
    )
    catalog_changed()  # this request reads the catalog again (new stamp)
    audit_record(action=AuditAction.SERVICE_CREATE, actor=actor, target=service)
    return service


def _check_version(fields: Any, workflow: Any) -> None:
    problems = validate_version(
        fields=fields,
        workflow=workflow,
        dictionary=dictionary(),
        departments=set(Department.objects.filter(active=True).values_list("slug", flat=True)),
    )
    if problems:
        raise InvalidInput(_("The service version has problems."), errors=problems)


@transaction.atomic
def service_version_draft(
    *,
    actor: User | None,
    service: Service,
    fields: list | None = None,
    workflow: dict | None = None,
) -> ServiceVersion:
    """Start a new draft version, copying the latest version unless fields/workflow are given.

    There is at most one draft per service: asking again returns the existing draft.
    """
    Service.objects.select_for_update().filter(pk=service.pk).first()
    existing = service.versions.filter(status=VersionStatus.DRAFT).first()
    if existing is not None:
        return existing
    latest = service.versions.order_by("-number").first()
    fields = fields if fields is not None else (latest.fields if latest else [])
    workflow = workflow if workflow is not None else (latest.workflow if latest else {"steps": []})
    number = (service.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ServiceVersion.objects.create(
        service=service, number=number, fields=fields, workflow=workflow
    )
    catalog_changed()  # this request reads the catalog again (new stamp)
    audit_record(
        action=AuditAction.VERSION_CREATE, actor=actor, target=version, details={"number": number}
    )
    return version


@transaction.atomic
def service_version_update(
    *, actor: User | None, version: ServiceVersion, fields: list, workflow: dict
) -> ServiceVersion:
    """Change a draft. Published versions never change: draft a new version instead."""
    version = ServiceVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_editable:
        raise WrongState(_("A published version cannot be changed; create a new draft version."))
    _check_version(fields, workflow)
    version.fields, version.workflow = fields, workflow
    version.save(update_fields=["fields", "workflow"])
    catalog_changed()  # this request reads the catalog again (new stamp)
    audit_record(action=AuditAction.VERSION_UPDATE, actor=actor, target=version)
    return version


@transaction.atomic
def service_version_publish(*, actor: User | None, version: ServiceVersion) -> ServiceVersion:
    """Publish a valid draft; the previously published version is retired (applications keep it)."""
    version = (
        ServiceVersion.objects.select_for_update().select_related("service").get(pk=version.pk)
    )
    if version.status != VersionStatus.DRAFT:
        raise WrongState(_("Only a draft version can be published."))
    _check_version(version.fields, version.workflow)
    retired = list(
        ServiceVersion.objects.filter(
            service=version.service, status=VersionStatus.PUBLISHED
        ).values_list("number", flat=True)
    )
    ServiceVersion.objects.filter(service=version.service, status=VersionStatus.PUBLISHED).update(
        status=VersionStatus.RETIRED
    )
    version.status, version.published_at = VersionStatus.PUBLISHED, timezone.now()
    version.save(update_fields=["status", "published_at"])
    catalog_changed()  # this request reads the catalog again (new stamp)
    audit_record(
        action=AuditAction.VERSION_PUBLISH,
        actor=actor,
        target=version,
        details={"retired": retired},
    )
    return version


# --- Data dictionary ------------------------------------------------------------------------------

FIELD_ATTRS = (
    "label",
    "staff_label",
    "help_text",
    "translations",
    "type",
    "choices",
    "validation",
    "sensitivity",
    "example",
    "profile_field",
)


def _refuse_unknown(attrs: dict[str, Any], known: Any, message: str) -> None:
    unknown = set(attrs) - set(known)
    if unknown:
        raise InvalidInput(message, errors={k: [_("Unknown setting.")] for k in unknown})


@transaction.atomic
def field_definition_save(*, actor: User | None, key: str, **attrs: Any) -> FieldDefinition:
    """Create a data-dictionary field, or change one (its key never changes)."""
    _refuse_unknown(attrs, FIELD_ATTRS, _("Unknown field settings."))
    field = FieldDefinition.objects.select_for_update().filter(key=key).first()
    created = field is None
    if created:
        field = FieldDefinition(key=key)
    changed = [name for name, value in attrs.items() if getattr(field, name) != value]
    for name, value in attrs.items():
        setattr(field, name, value)
    try:
        field.full_clean()
    except DjangoValidationError as exc:
        raise InvalidInput(
            _("The field definition has problems."), errors=exc.message_dict
        ) from exc
    translation_errors = field_translation_problems(field)
    if translation_errors:
        raise InvalidInput(
            _("The field definition has problems."), errors={"translations": translation_errors}
        )
    if not created and not changed:
        return field
    field.save()
    catalog_changed()  # this request reads the catalog again (new stamp)
    audit_record(
        action=AuditAction.FIELD_CREATE if created else AuditAction.FIELD_UPDATE,
        actor=actor,
        target=field,
        details={"key": key, "changed": sorted(changed)},
    )
    return field


SERVICE_ATTRS = ("name", "description", "kind", "keywords", "translations", "active")


@transaction.atomic
def service_update(*, actor: User | None, service: Service, **attrs: Any) -> Service:
    """Change a service's catalog text or availability (its versions are changed separately)."""
    _refuse_unknown(attrs, SERVICE_ATTRS, _("Unknown service settings."))
    if "translations" in attrs:
        _check_service_translations(attrs["translations"], service.slug)
    service = Service.objects.select_for_update().get(pk=service.pk)
    changed = [name for name, value in attrs.items() if getattr(service, name) != value]
    if not changed:
        return service
    for name in changed:
        setattr(service, name, attrs[name])
    service.save(update_fields=changed)
    catalog_changed()  # this request reads the catalog again (new stamp)
    audit_record(
        action=AuditAction.SERVICE_UPDATE,
        actor=actor,
        target=service,
        details={"changed": sorted(changed)},
    )
    return service
