"""Representatives: an applicant authorises another citizen to view and act on one application
(reply to a department's question, upload files for the reply) and, only when given those
rights, to withdraw or erase it. The rights are object permissions (`services.permissions`);
the `Representation` row records who gave them, when, and when they were taken back."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import user_by_email
from audit.actions import audit_record
from audit.constants import AuditAction

from .. import permissions
from ..answers import national_id_index
from ..errors import InvalidInput, NotAllowed, WrongState
from ..models import Application, CitizenProfile, Representation
from .applications import _locked


def _refuse_person() -> InvalidInput:
    # One message for an unknown email, an inactive account, a portal-wide staff account and a
    # national ID that does not match: the form must not tell which accounts exist.
    message = _("No citizen account matches this email address and national ID.")
    return InvalidInput(message, errors={"email": [message]})


def _representative(email: str, national_id: str) -> User:
    """The active citizen account with this email whose saved profile holds this national ID
    (compared through the blind index, nothing decrypted)."""
    email = (email or "").strip()
    index = national_id_index(national_id or "")
    if not email or not index or "\x00" in email:
        raise _refuse_person()
    user = user_by_email(email=email, active=True)
    if user is None or user.is_staff or user.is_superuser or user.staff_role:
        raise _refuse_person()
    if not CitizenProfile.objects.filter(user=user, national_id_index=index).exists():
        raise _refuse_person()
    return user


def rights_of(representation: Representation) -> list[str]:
    """The codenames a representation grants."""
    return permissions.rights(
        may_withdraw=representation.may_withdraw, may_erase=representation.may_erase
    )


@transaction.atomic
def representation_grant(
    *,
    application: Application,
    actor: User,
    email: str,
    national_id: str,
    may_withdraw: bool = False,
    may_erase: bool = False,
) -> Representation:
    """The owner authorises another citizen, found by email and national ID, on one application."""
    application = _locked(application)
    if application.citizen_id != actor.pk:
        raise NotAllowed(_("Only the applicant can authorise a representative."))
    if application.erased_at is not None:
        raise WrongState(_("The personal data of this application was erased."))
    if (email or "").strip().casefold() == actor.email.casefold():
        message = _("You cannot authorise yourself.")
        raise InvalidInput(message, errors={"email": [message]})
    representative = _representative(email, national_id)
    if representative.pk == actor.pk:
        message = _("You cannot authorise yourself.")
        raise InvalidInput(message, errors={"email": [message]})
    if Representation.objects.filter(
        application=application, representative=representative, revoked_at__isnull=True
    ).exists():
        raise WrongState(_("This person already acts for you on this application."))
    representation = Representation.objects.create(
        application=application,
        principal=actor,
        representative=representative,
        may_withdraw=bool(may_withdraw),
        may_erase=bool(may_erase),
    )
    rights = rights_of(representation)
    permissions.grant(user=representative, application=application, codenames=rights)
    audit_record(
        action=AuditAction.REPRESENTATION_GRANT,
        actor=actor,
        target=application,
        subject=application.citizen,
        details={"representative": representative.pk, "rights": rights},
    )
    return representation


@transaction.atomic
def representation_revoke(*, representation: Representation, actor: User) -> Representation:
    """The owner takes the authorisation back, or the representative steps down: the grants
    go at once. Revoking a revoked authorisation changes nothing."""
    representation = (
        Representation.objects.select_for_update(of=("self",))
        .select_related("application__citizen", "representative")
        .get(pk=representation.pk)
    )
    if actor.pk not in (representation.principal_id, representation.representative_id):
        raise NotAllowed(_("Only the applicant or the representative can end this authorisation."))
    if representation.revoked_at is not None:
        return representation
    application = representation.application
    representation.revoked_at = timezone.now()
    representation.revoked_by = actor
    representation.save(update_fields=["revoked_at", "revoked_by"])
    permissions.ungrant(user=representation.representative, application=application)
    audit_record(
        action=AuditAction.REPRESENTATION_REVOKE,
        actor=actor,
        target=application,
        subject=application.citizen,
        details={
            "representative": representation.representative_id,
            "by_representative": actor.pk == representation.representative_id,
        },
    )
    return representation
