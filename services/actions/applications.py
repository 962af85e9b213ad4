"""Writes on applications: create (prefilled from the profile), save answers, submit,
withdraw, correct answers after a department's question, and the routing request that wakes
the engine after the commit. The other action modules share this one's helpers (`_locked`,
`_clean_patch`, `_apply_patch`, `_save_answers`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.actions import audit_record
from audit.constants import AuditAction
from core import references
from core.references import new_reference

from .. import answers as sealing
from .. import catalog, hooks, tasklist
from ..constants import ApplicationStatus
from ..errors import InvalidInput, ServiceError, WrongState
from ..fields import kind_for
from ..models import Application, Attachment, ServiceVersion
from ..schema import MergedField, applicable_answers, validate_answers
from ..selectors import (
    application_answers,
    application_form,
    dictionary,
    locked_in_this_transaction,
    profile_prefill,
)

MAX_ANSWERS_BYTES = 256 * 1024


def _store_answers(application: Application, answers: Mapping[str, Any]) -> None:
    application.answers = sealing.seal(
        answers, row=application.sealing_row, dictionary=dictionary()
    )
    application.national_id_index = sealing.national_id_index(
        answers.get(sealing.APPLICANT_NATIONAL_ID)
    )


def _save_answers(application: Application, answers: Mapping[str, Any]) -> None:
    """Seal and save a draft's changed answers (and their national-ID index)."""
    _store_answers(application, answers)
    application.updated_at = timezone.now()
    application.save(update_fields=["answers", "national_id_index", "updated_at"])


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
        application = Application(reference=new_reference(references.APPLICATION), citizen=citizen)
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


@transaction.atomic
def application_section_mark(
    *, application: Application, actor: User, section: str, completed: bool
) -> Application:
    """Record the citizen's answer to "Have you completed this section?" on the task list.

    Marking a section completed needs every required question of it that applies answered;
    "no" takes it off the completed ones. 409 once submitted.
    """
    application = _locked(application)
    if application.status != ApplicationStatus.DRAFT:
        raise WrongState(
            _("This application has been submitted; its answers can no longer change.")
        )
    fields = application_form(application)
    if not any(f.definition.section == section for f in fields):
        raise InvalidInput(_("This section is not part of the application."))
    if completed:
        missing = tasklist.missing_answers(fields, application_answers(application), section)
        if missing:
            message = _("Answer this question, or choose “No, I will come back to it later”.")
            raise InvalidInput(
                _("Answer every question of this section before you mark it as completed."),
                errors={key: [message] for key in missing},
            )
    done = [s for s in application.sections_done or [] if s != section]
    if completed:
        done.append(section)
    if done == list(application.sections_done or []):
        return application
    application.sections_done = done
    application.updated_at = timezone.now()
    application.save(update_fields=["sections_done", "updated_at"])
    audit_record(
        action=AuditAction.APPLICATION_UPDATE,
        actor=actor,
        target=application,
        subject=application.citizen,
        details={"fields": [], "section": section, "completed": completed},
    )
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
    _save_answers(application, values)
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
    file_keys = [f.key for f in fields if kind_for(f.definition.type).is_file and f.key in values]
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
    from ..tasks import notify_application_submitted

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
