"""Writes on the catalog and on applications. Each records its audit event in its transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, User
from audit.actions import audit_record
from audit.constants import AuditAction
from audit.purposes import application_scope, data_key_shred
from core.errors import InvalidInput, PortalError, WrongState
from privacy import crypto
from privacy.freetext import seal_text

from . import answers as sealing
from . import catalog, hooks
from .constants import ApplicationStatus, FieldType, VersionStatus
from .definitions import validate_version
from .models import (
    Application,
    Attachment,
    CitizenProfile,
    FieldDefinition,
    Service,
    ServiceVersion,
)
from .schema import MergedField, applicable_answers, validate_answers
from .selectors import (
    application_versions,
    catalog_changed,
    dictionary,
    locked_in_this_transaction,
)

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
MAX_ANSWERS_BYTES = 256 * 1024


# The refusals of the citizen side are the portal's (`core.errors`); `ServiceError` is the name
# this app's callers know them by.
ServiceError = PortalError


# --- Catalog --------------------------------------------------------------------------------------


@transaction.atomic
def service_create(
    *,
    actor: User | None,
    slug: str,
    name: str,
    description: str = "",
    kind: str,
    keywords: str = "",
) -> Service:
    if Service.objects.filter(slug=slug).exists():
        raise InvalidInput(
            _("A service with this slug already exists."), errors={"slug": [_("Already used.")]}
        )
    service = Service.objects.create(
        slug=slug, name=name, description=description, kind=kind, keywords=keywords
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


# --- Applications ---------------------------------------------------------------------------------


def new_reference() -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"A-{body[:4]}-{body[4:]}"


def application_form(application: Application) -> list[MergedField]:
    """The merged fields of the versions the application was started with (shared: read only)."""
    return catalog.current().form(application_versions(application))


def application_answers(application: Application) -> dict[str, Any]:
    """The application's answers in clear (for its owner; staff reads go through audited paths)."""
    return sealing.unseal(
        application.answers, row=f"application:{application.reference}", dictionary=dictionary()
    )


def _store_answers(application: Application, answers: Mapping[str, Any]) -> None:
    application.answers = sealing.seal(
        answers, row=f"application:{application.reference}", dictionary=dictionary()
    )
    application.national_id_index = sealing.national_id_index(
        answers.get(sealing.APPLICANT_NATIONAL_ID)
    )


def _clean_patch(answers: Any) -> dict[str, Any]:
    if not isinstance(answers, Mapping):
        raise InvalidInput(
            _("Answers must be an object."), errors={"answers": [_("Answers must be an object.")]}
        )
    if len(repr(answers)) > MAX_ANSWERS_BYTES:
        raise InvalidInput(
            _("The answers are too large."), errors={"answers": [_("The answers are too large.")]}
        )
    # PostgreSQL cannot store U+0000 in JSON text: refuse it here rather than fail the insert.
    with_nul = [k for k, v in answers.items() if isinstance(v, str) and "\x00" in v]
    if with_nul:
        message = _("Null characters are not allowed.")
        raise InvalidInput(
            _("Some answers are not valid."), errors={k: [message] for k in with_nul}
        )
    return dict(answers)


def _apply_patch(current: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in patch.items():
        if value is None or value == "":
            merged.pop(key, None)  # a cleared field
        else:
            merged[key] = value
    return merged


def profile_prefill(*, user: User, fields: list[MergedField]) -> dict[str, Any]:
    profile = CitizenProfile.objects.filter(user=user).first()
    if profile is None:
        return {}
    facts = sealing.unseal(profile.data, row=f"profile:{user.pk}", dictionary=dictionary())
    return {f.key: facts[f.key] for f in fields if f.key in facts}


@transaction.atomic
def application_create(
    *, citizen: User, versions: Iterable[ServiceVersion], answers: Mapping[str, Any] | None = None
) -> Application:
    """Start a draft for one or more services, prefilled from the citizen's profile."""
    versions = list(versions)
    if not versions:
        raise InvalidInput(
            _("Choose at least one service."),
            errors={"services": [_("Choose at least one service.")]},
        )
    patch = _clean_patch(answers or {})
    snapshot = catalog.current()
    fields = snapshot.form(sorted(versions, key=lambda v: v.service.slug))
    values = _apply_patch(profile_prefill(user=citizen, fields=fields), patch)
    errors = validate_answers(fields, values, partial=True, validator=snapshot.validator(fields))
    if errors:
        raise InvalidInput(_("Some answers are not valid."), errors=errors)
    # A new reference is tried on a collision (the unique index says so; no read first). The
    # answers are sealed again each time: the reference is part of their associated data.
    for attempt in range(5):
        application = Application(reference=new_reference(), citizen=citizen)
        _store_answers(application, values)
        try:
            with transaction.atomic():
                application.save(force_insert=True)
            break
        except IntegrityError as exc:
            if attempt == 4:
                raise ServiceError(_("Please try again.")) from exc
    application.versions.add(*versions)  # a new row: no current set to read first, as set() does
    audit_record(
        action=AuditAction.APPLICATION_CREATE,
        actor=citizen,
        target=application,
        subject=citizen,
        details={"services": [v.audit_ref for v in versions], "fields": sorted(values)},
    )
    return application


def request_routing(*, application: Application) -> None:
    """Record, in the caller's transaction, that the engine must look at this application, and
    wake a worker after the commit. The record is what counts: if the wake-up call is lost
    (broker down), the sweeper finds the application and routes it."""
    now = timezone.now()
    Application.objects.filter(pk=application.pk, routing_requested_at__isnull=True).update(
        routing_requested_at=now
    )
    application.routing_requested_at = application.routing_requested_at or now
    _wake_router(application)


def _wake_router(application: Application) -> None:
    application_id = application.pk
    transaction.on_commit(lambda: hooks.wake_router(application_id), robust=True)


def _locked(application: Application) -> Application:
    if locked_in_this_transaction(application):
        return application  # the API locked it with the permission check, in this transaction
    # The citizen comes with the row: every action names them as the audit event's subject.
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("citizen")
        .get(pk=application.pk)
    )


@transaction.atomic
def application_update_answers(
    *, application: Application, actor: User, answers: Mapping[str, Any]
) -> Application:
    """Save answers of a draft (a missing or empty value clears the field). 409 once submitted."""
    application = _locked(application)
    if application.status != ApplicationStatus.DRAFT:
        raise WrongState(
            _("This application has been submitted; its answers can no longer change.")
        )
    _save_patch(application, actor, _clean_patch(answers), details={})
    return application


def _save_patch(
    application: Application, actor: User, patch: dict[str, Any], *, details: dict
) -> None:
    """Validate the patched values (only the fields being saved are judged: a draft may hold
    half-finished pages), seal and save them, and record the change."""
    fields = application_form(application)
    values = _apply_patch(application_answers(application), patch)
    validator = catalog.current().validator(fields)
    errors = validate_answers(fields, values, partial=True, validator=validator)
    errors = {k: v for k, v in errors.items() if k in patch}
    if errors:
        raise InvalidInput(_("Some answers are not valid."), errors=errors)
    _store_answers(application, values)
    application.updated_at = timezone.now()
    application.save(update_fields=["answers", "national_id_index", "updated_at"])
    audit_record(
        action=AuditAction.APPLICATION_UPDATE,
        actor=actor,
        target=application,
        subject=application.citizen,
        details={"fields": sorted(patch), **details},
    )


def application_correct_answers(
    *, application: Application, actor: User, answers: Mapping[str, Any]
) -> None:
    """Correct answers of a submitted application (a reply to a department's question).

    Runs inside the reply's transaction; values are validated like a draft's and sealed again.
    """
    application = _locked(application)
    if application.status in (
        ApplicationStatus.DRAFT,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.COMPLETED,
    ):
        raise WrongState(_("This application cannot be corrected now."))
    patch = _clean_patch(answers)
    if any(v in (None, "") for v in patch.values()):
        raise InvalidInput(
            _("An answer cannot be removed here."),
            errors={k: [_("Give a value.")] for k, v in patch.items() if v in (None, "")},
        )
    _save_patch(application, actor, patch, details={"after_submit": True})


def _check_attachments(
    application: Application, fields: list[MergedField], values: Mapping[str, Any]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    file_keys = [f.key for f in fields if f.definition.type == FieldType.FILE and f.key in values]
    if not file_keys:
        return errors
    tokens = set(
        Attachment.objects.filter(application=application, field_key__in=file_keys).values_list(
            "field_key", "token"
        )
    )
    for key in file_keys:
        if (key, values[key]) not in tokens:
            errors[key] = [_("Upload the file again.")]
    return errors


@transaction.atomic
def application_submit(*, application: Application, actor: User) -> Application:
    """Validate everything and submit. Submitting a submitted application changes nothing."""
    application = _locked(application)
    if application.status == ApplicationStatus.WITHDRAWN:
        raise WrongState(_("This application was withdrawn."))
    if application.status != ApplicationStatus.DRAFT:
        return application  # idempotent: a double click or a retried request
    fields = application_form(application)
    values = application_answers(application)
    validator = catalog.current().validator(fields)
    errors = validate_answers(
        fields, values, partial=False, validator=validator
    ) or _check_attachments(application, fields, values)
    if errors:
        raise InvalidInput(_("Some answers are missing or not valid."), errors=errors)
    kept = applicable_answers(fields, values)
    _store_answers(application, kept)
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = application.updated_at = timezone.now()
    # The routing request (`request_routing`'s record) goes in the same UPDATE: the row is
    # locked, so the value read is the current one.
    application.routing_requested_at = application.routing_requested_at or application.updated_at
    application.save(
        update_fields=[
            "answers",
            "national_id_index",
            "status",
            "submitted_at",
            "updated_at",
            "routing_requested_at",
        ]
    )
    audit_record(
        action=AuditAction.APPLICATION_SUBMIT,
        actor=actor,
        target=application,
        subject=application.citizen,
        details={"fields": sorted(kept), "dropped": sorted(set(values) - set(kept))},
    )
    from .tasks import notify_application_submitted

    _wake_router(application)
    transaction.on_commit(lambda: notify_application_submitted.delay(application.pk), robust=True)
    return application


@transaction.atomic
def application_withdraw(*, application: Application, actor: User) -> Application:
    application = _locked(application)
    if application.status == ApplicationStatus.WITHDRAWN:
        return application
    if application.status == ApplicationStatus.COMPLETED:
        raise WrongState(_("A completed application cannot be withdrawn."))
    previous = application.status
    application.status = ApplicationStatus.WITHDRAWN
    application.withdrawn_at = application.updated_at = timezone.now()
    application.save(update_fields=["status", "withdrawn_at", "updated_at"])
    audit_record(
        action=AuditAction.APPLICATION_WITHDRAW,
        actor=actor,
        target=application,
        subject=application.citizen,
        details={"previous_status": previous},
    )
    if previous != ApplicationStatus.DRAFT:
        request_routing(application=application)  # the engine cancels the open cases
    return application


# --- Attachments ----------------------------------------------------------------------------------

_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}


def sniff_content_type(head: bytes) -> str | None:
    """The type of a file from its first bytes (never from its name or the browser's word)."""
    for content_type, signatures in _SIGNATURES.items():
        if any(head.startswith(sig) for sig in signatures):
            return content_type
    return None


@transaction.atomic
def attachment_upload(
    *, application: Application, actor: User, field_key: str, upload: UploadedFile
) -> Attachment:
    """Store a file for a `file` field of a draft and set the answer to its token."""
    application = _locked(application)
    if application.status != ApplicationStatus.DRAFT:
        raise WrongState(_("Files can only be added while the application is a draft."))
    fields = {f.key: f for f in application_form(application)}
    merged = fields.get(field_key)
    if merged is None or merged.definition.type != FieldType.FILE:
        raise InvalidInput(
            _("This field does not take a file."),
            errors={field_key: [_("This field does not take a file.")]},
        )
    rules = merged.definition.validation or {}
    max_bytes = int(rules.get("max_size_mb", 10) * 1024 * 1024)
    allowed = rules.get("content_types", list(_SIGNATURES))
    if upload.size is None or upload.size == 0:
        raise InvalidInput(_("The file is empty."), errors={field_key: [_("The file is empty.")]})
    if upload.size > max_bytes:
        message = _("The file is larger than %(n)s MB.") % {"n": rules.get("max_size_mb", 10)}
        raise InvalidInput(message, errors={field_key: [message]})
    content = upload.read(max_bytes + 1)
    content_type = sniff_content_type(content[:16])
    if content_type is None or content_type not in allowed:
        message = _("The file must be one of: %(types)s.") % {
            "types": ", ".join(t.split("/")[1].upper() for t in allowed)
        }
        raise InvalidInput(message, errors={field_key: [message]})
    old = list(Attachment.objects.filter(application=application, field_key=field_key))
    attachment = Attachment(
        application=application,
        field_key=field_key,
        token=secrets.token_urlsafe(18),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    attachment.original_name = seal_text(
        (upload.name or "file")[-200:], aad=attachment.sealed_text_aad("original_name")
    )
    attachment.key_id, sealed = crypto.encrypt_file(content, aad=attachment.aad)
    attachment.file.save(attachment.token, ContentFile(sealed), save=False)
    attachment.save()
    for previous in old:  # a replaced file is deleted after the commit
        transaction.on_commit(lambda f=previous.file: f.delete(save=False))
        previous.delete()
    values = _apply_patch(application_answers(application), {field_key: attachment.token})
    _store_answers(application, values)
    application.updated_at = timezone.now()
    application.save(update_fields=["answers", "national_id_index", "updated_at"])
    audit_record(
        action=AuditAction.ATTACHMENT_UPLOAD,
        actor=actor,
        target=attachment,
        subject=application.citizen,
        details={"field": field_key, "content_type": content_type, "size": len(content)},
    )
    return attachment


# --- Profile --------------------------------------------------------------------------------------


@transaction.atomic
def profile_update(*, user: User, facts: Mapping[str, Any]) -> CitizenProfile:
    """Save the citizen's stable facts (only dictionary fields marked as profile fields)."""
    known = {k: fd for k, fd in dictionary().items() if fd.profile_field}
    patch = _clean_patch(facts)
    unknown = [k for k in patch if k not in known]
    if unknown:
        raise InvalidInput(
            _("Unknown profile fields."),
            errors={k: [_("This is not a profile field.")] for k in unknown},
        )
    fields = [MergedField(definition=fd) for fd in known.values()]
    errors = validate_answers(
        fields, {k: v for k, v in patch.items() if v not in (None, "")}, partial=True
    )
    if errors:
        raise InvalidInput(_("Some answers are not valid."), errors=errors)
    profile, _created = CitizenProfile.objects.select_for_update().get_or_create(user=user)
    row = f"profile:{user.pk}"
    values = _apply_patch(sealing.unseal(profile.data, row=row, dictionary=known), patch)
    profile.data = sealing.seal(values, row=row, dictionary=known)
    profile.national_id_index = sealing.national_id_index(values.get(sealing.APPLICANT_NATIONAL_ID))
    profile.updated_at = timezone.now()
    profile.save(update_fields=["data", "national_id_index", "updated_at"])
    audit_record(
        action=AuditAction.PROFILE_UPDATE,
        actor=user,
        target=profile,
        subject=user,
        details={"fields": sorted(patch)},
    )
    return profile


# --- Data dictionary ------------------------------------------------------------------------------

FIELD_ATTRS = (
    "label",
    "help_text",
    "translations",
    "type",
    "choices",
    "validation",
    "sensitivity",
    "example",
    "profile_field",
)


@transaction.atomic
def field_definition_save(*, actor: User | None, key: str, **attrs: Any) -> FieldDefinition:
    """Create a data-dictionary field, or change one (its key never changes)."""
    unknown = set(attrs) - set(FIELD_ATTRS)
    if unknown:
        raise InvalidInput(
            _("Unknown field settings."), errors={k: [_("Unknown setting.")] for k in unknown}
        )
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
    unknown = set(attrs) - set(SERVICE_ATTRS)
    if unknown:
        raise InvalidInput(
            _("Unknown service settings."), errors={k: [_("Unknown setting.")] for k in unknown}
        )
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


@transaction.atomic
def personal_data_export_record(*, user: User) -> None:
    audit_record(action=AuditAction.DATA_EXPORT, actor=user, target=user, subject=user)


# --- Key rotation ---------------------------------------------------------------------------------


def rotate_attachments_batch(*, after_pk: int, batch: int = 100) -> tuple[int, int, int]:
    """Re-encrypt one batch of attachment files under the active key (and encrypt any file
    stored before files were encrypted). Each file is written under a new name, the row points
    to it in the transaction, and the old file is deleted after the commit, so an interrupted
    run loses nothing and resumes. Returns (last pk seen, rows scanned, files changed)."""
    from .selectors import attachment_content

    active = crypto.active_key_id()
    with transaction.atomic():
        rows = list(
            Attachment.objects.select_for_update(of=("self",))
            .select_related("application")
            .filter(pk__gt=after_pk)
            .order_by("pk")[:batch]
        )
        changed = 0
        for attachment in rows:
            if attachment.key_id == active or not attachment.file:
                continue
            content = attachment_content(attachment)
            old_file = attachment.file
            attachment.key_id, sealed = crypto.encrypt_file(content, aad=attachment.aad)
            attachment.file = None
            attachment.file.save(
                f"{attachment.token}.{attachment.key_id}", ContentFile(sealed), save=False
            )
            attachment.save(update_fields=["file", "key_id"])
            transaction.on_commit(lambda f=old_file: f.delete(save=False))
            changed += 1
        if changed:
            audit_record(
                action=AuditAction.KEYS_ROTATE,
                actor=None,
                details={"table": "attachment", "rows": changed, "key": active},
            )
    return (rows[-1].pk if rows else after_pk), len(rows), changed


# --- Retention and erasure ------------------------------------------------------------------------

CLOSED_STATES = (ApplicationStatus.COMPLETED, ApplicationStatus.WITHDRAWN)


@transaction.atomic
def application_erase(*, application: Application, actor: User | None, reason: str) -> Application:
    """Erase the personal values and files of a closed application; keep a tombstone.

    What stays: the reference, dates, statuses, services, cases (statuses only) and public
    answers, for statistics. The free text around the cases (decision notes and reasons,
    questions, replies, internal notes) is emptied, the rows staying as tombstones; file names go
    with their attachments. Audit events cannot change: the reveal purposes in them become
    unreadable because the application's data key is destroyed (audit/purposes.py).
    """
    application = _locked(application)
    if application.erased_at is not None:
        return application
    if application.status not in CLOSED_STATES:
        raise WrongState(_("Only a completed or withdrawn application can be erased."))
    catalogue = dictionary()
    erased = sorted(
        k
        for k in application.answers
        if k not in catalogue or sealing.is_sealed_field(catalogue[k])
    )
    files = list(application.attachments.all())
    for attachment in files:
        transaction.on_commit(lambda f=attachment.file: f.delete(save=False))
    application.attachments.all().delete()
    file_keys = {k for k, fd in catalogue.items() if fd.type == FieldType.FILE}
    application.answers = {
        k: v for k, v in application.answers.items() if k not in erased and k not in file_keys
    }
    application.national_id_index = ""
    application.erased_at = application.updated_at = timezone.now()
    application.save(update_fields=["answers", "national_id_index", "erased_at", "updated_at"])
    texts = hooks.erase_parts(application)
    shredded = data_key_shred(scope=application_scope(application.reference))
    audit_record(
        action=AuditAction.APPLICATION_ERASE,
        actor=actor,
        target=application,
        subject=application.citizen,
        details={
            "reason": reason,
            "fields": erased,
            "files": len(files),
            "texts": texts,
            "purpose_key_destroyed": shredded,
        },
    )
    return application


def erase_expired(*, now: Any = None, batch: int = 200) -> int:
    """The nightly retention sweep: erase closed applications past their versions' retention."""
    from datetime import timedelta

    now = now or timezone.now()
    candidates = (
        Application.objects.filter(status__in=CLOSED_STATES, erased_at__isnull=True)
        .prefetch_related("versions")
        .order_by("pk")
    )
    erased = 0
    for application in candidates.iterator(chunk_size=batch):
        closed = application.completed_at or application.withdrawn_at or application.updated_at
        keep_days = max((v.retention_days for v in application.versions.all()), default=730)
        if closed + timedelta(days=keep_days) <= now:
            application_erase(application=application, actor=None, reason="retention")
            erased += 1
    return erased
