"""The citizen's profile (stable facts, sealed) and the record of their personal data export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.actions import audit_record
from audit.constants import AuditAction

from .. import answers as sealing
from ..errors import InvalidInput
from ..models import CitizenProfile
from ..schema import MergedField, validate_answers
from ..selectors import dictionary
from .applications import _apply_patch, _clean_patch


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
    row = profile.sealing_row
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


@transaction.atomic
def personal_data_export_record(*, user: User) -> None:
    audit_record(action=AuditAction.DATA_EXPORT, actor=user, target=user, subject=user)
