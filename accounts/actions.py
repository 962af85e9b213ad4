"""Writes on users, departments, memberships and API tokens. Each records its audit event."""

from __future__ import annotations

from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from audit.actions import audit_record
from audit.constants import AuditAction
from privacy import rotation

from . import mfa_secrets
from .constants import MembershipRole, StaffRole
from .models import Department, Membership, User
from .token_actions import IssuedToken, TokenError
from .token_actions import token_issue as _token_issue
from .token_actions import token_revoke as token_revoke
from .token_actions import tokens_revoke_all as tokens_revoke_all


class AccountError(ValueError):
    """A request that cannot be carried out; the message is safe to show to the user."""


def _group_name(slug: str) -> str:
    return f"department:{slug}"


def _lead_group_name(slug: str) -> str:
    return f"department:{slug}:leads"


def department_groups_sync(*, user: User, department: Department, role: str | None) -> None:
    """Put the user in the department's groups their role calls for (`role` None: out of
    both). The one place memberships decide anything about access: everything else reads the
    object permissions these groups were granted (docs/permissions.md). The user object's
    cached groups and roles are dropped, so a removal takes effect at once, on this object too."""
    user.forget_roles()
    if role is None:
        user.groups.remove(*[g for g in (department.group, department.lead_group) if g])
        return
    user.groups.add(department.group)
    if department.lead_group is not None:
        if role == MembershipRole.LEAD:
            user.groups.add(department.lead_group)
        else:
            user.groups.remove(department.lead_group)


@transaction.atomic
def department_create(
    *,
    actor: User | None,
    slug: str,
    name: str,
    contact_email: str = "",
    contact_phone: str = "",
    translations: dict | None = None,
) -> Department:
    """Create a department with its permission group; `translations` holds its name in other
    languages ({"zh-hans": {"name": "…"}}, core.translations)."""
    if Department.objects.filter(slug=slug).exists():
        raise AccountError(
            _("A department with the slug “%(slug)s” already exists.") % {"slug": slug}
        )
    group, _created = Group.objects.get_or_create(name=_group_name(slug))
    lead_group, _created = Group.objects.get_or_create(name=_lead_group_name(slug))
    department = Department.objects.create(
        slug=slug,
        name=name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        translations=translations or {},
        group=group,
        lead_group=lead_group,
    )
    audit_record(
        action=AuditAction.DEPARTMENT_CREATE,
        actor=actor,
        target=department,
        department=department,
        details={"name": name},
    )
    return department


@transaction.atomic
def department_update(
    *,
    actor: User | None,
    department: Department,
    name: str,
    contact_email: str,
    contact_phone: str,
    active: bool,
    translations: dict | None = None,
) -> Department:
    """Change a department; `translations` None keeps its translated names as they are."""
    if translations is None:
        translations = department.translations
    changed = [
        field
        for field, value in (
            ("name", name),
            ("contact_email", contact_email),
            ("contact_phone", contact_phone),
            ("active", active),
            ("translations", translations),
        )
        if getattr(department, field) != value
    ]
    if not changed:
        return department
    department.name, department.contact_email = name, contact_email
    department.contact_phone, department.active = contact_phone, active
    department.translations = translations
    department.save(update_fields=changed)
    audit_record(
        action=AuditAction.DEPARTMENT_UPDATE,
        actor=actor,
        target=department,
        department=department,
        details={"fields": changed},
    )
    if "active" in changed and not active:
        # Its members lose their role here: their tokens were issued under it.
        for member in User.objects.filter(memberships__department=department):
            tokens_revoke_all(actor=actor, user=member, reason="role_lost")
    return department


@transaction.atomic
def membership_grant(
    *, actor: User | None, user: User, department: Department, role: MembershipRole
) -> Membership:
    """Give a user a role in a department (or change it), and put them in its group."""
    if role not in MembershipRole.values:
        raise AccountError(_("Unknown department role."))
    if user.is_service_account and (
        role != MembershipRole.CLERK or department.pk != user.service_department_id
    ):
        raise AccountError(_("A service account is a clerk of its own department only."))
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user, department=department, defaults={"role": role}
    )
    if not created and membership.role == role:
        return membership
    previous = None if created else membership.role
    if not created:
        membership.role = role
        membership.save(update_fields=["role"])
        if previous == MembershipRole.LEAD:
            tokens_revoke_all(actor=actor, user=user, reason="role_lost")
    department_groups_sync(user=user, department=department, role=role)
    audit_record(
        action=AuditAction.MEMBERSHIP_GRANT,
        actor=actor,
        target=membership,
        department=department,
        details={"user": user.pk, "role": str(role), "previous_role": previous},
    )
    return membership


@transaction.atomic
def membership_revoke(*, actor: User | None, membership: Membership) -> None:
    user, department = membership.user, membership.department
    audit_record(
        action=AuditAction.MEMBERSHIP_REVOKE,
        actor=actor,
        target=membership,
        department=department,
        details={"user": user.pk, "role": membership.role},
    )
    membership.delete()
    department_groups_sync(user=user, department=department, role=None)
    tokens_revoke_all(actor=actor, user=user, reason="role_lost")


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    email: str,
    password: str | None,
    full_name: str = "",
    staff_role: StaffRole = StaffRole.NONE,
    email_verified: bool = False,
) -> User:
    """Create an account (for administrators and seeding; citizens sign up through allauth)."""
    from allauth.account.models import EmailAddress

    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(_("An account with this email address already exists."))
    user = User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name,
        staff_role=staff_role,
        is_staff=staff_role == StaffRole.ADMIN,
        is_superuser=staff_role == StaffRole.ADMIN,
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=email_verified)
    audit_record(
        action=AuditAction.USER_CREATE,
        actor=actor,
        target=user,
        details={"staff_role": str(staff_role), "email_verified": email_verified},
    )
    return user


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    user_password_changed(actor=actor, user=user)


@transaction.atomic
def user_language_set(*, actor: User | None, user: User, language: str) -> User:
    """Store the language a person chose (a code from settings.LANGUAGES, or "" for none)."""
    from django.conf import settings

    if language and language not in dict(settings.LANGUAGES):
        raise AccountError(_("Unknown language."))
    user.language = language
    user.save(update_fields=["language"])
    audit_record(
        action=AuditAction.USER_UPDATE, actor=actor, target=user, details={"fields": ["language"]}
    )
    return user


@transaction.atomic
def user_password_changed(*, actor: User | None, user: User) -> None:
    """Record a password already set on `user` (allauth's forms, the admin's password page)
    and revoke the user's API tokens: a new password must lock out whoever had the old one."""
    audit_record(
        action=AuditAction.USER_UPDATE, actor=actor, target=user, details={"fields": ["password"]}
    )
    tokens_revoke_all(actor=actor, user=user, reason="password_changed")


def token_issue(
    *, actor: User | None, user: User, label: str = "", lifetime: timedelta | None = None
) -> IssuedToken:
    """Issue a new API token (see `token_actions.token_issue`); `.key` is the secret."""
    try:
        return _token_issue(actor=actor, user=user, label=label, lifetime=lifetime)
    except TokenError as exc:
        raise AccountError(str(exc)) from exc


@transaction.atomic
def signup_record(*, user: User) -> None:
    """Record a citizen's self sign-up (called by the allauth adapter in its transaction)."""
    audit_record(action=AuditAction.ACCOUNT_SIGNUP, actor=user, target=user, subject=user)


@transaction.atomic
def email_verified_record(*, user: User, email: str) -> None:
    audit_record(action=AuditAction.ACCOUNT_EMAIL_VERIFIED, actor=user, target=user, subject=user)


@transaction.atomic
def session_record(*, user: User | None, action: AuditAction, details: dict | None = None) -> None:
    audit_record(action=action, actor=user, target=user, subject=user, details=details)


@transaction.atomic
def staff_totp_activate(*, actor: User | None, user: User, secret: str) -> None:
    """Give a staff account a TOTP authenticator (seeding and tests; people use allauth's page)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        return
    TOTP.activate(user, secret)
    audit_record(
        action=AuditAction.USER_UPDATE, actor=actor, target=user, details={"fields": ["totp"]}
    )


_PRIVILEGES = ("staff_role", "is_staff", "is_superuser", "is_active")


@transaction.atomic
def user_admin_save(*, actor: User, user: User, fields: list[str], created: bool) -> User:
    """Save a user edited in the admin, with its audit event (field names only)."""
    before = (
        User.objects.filter(pk=user.pk).values(*_PRIVILEGES).first()
        if not created and user.pk
        else None
    )
    if user.is_service_account and (user.staff_role or user.is_staff or user.is_superuser):
        raise AccountError(_("A service account cannot hold a portal-wide role."))
    user.save()
    audit_record(
        action=AuditAction.USER_CREATE if created else AuditAction.USER_UPDATE,
        actor=actor,
        target=user,
        details={"fields": sorted(fields), "via": "admin"},
    )
    if before is not None and _privilege_lost(before, user):
        tokens_revoke_all(actor=actor, user=user, reason="role_lost")
    return user


def _privilege_lost(before: dict, user: User) -> bool:
    """True when the portal-wide role was removed or lowered, or a flag turned off."""
    ranks = {StaffRole.NONE: 0, StaffRole.SUPERVISOR: 1, StaffRole.ADMIN: 2}
    if ranks.get(user.staff_role, 0) < ranks.get(before["staff_role"], 0):
        return True
    return any(before[flag] and not getattr(user, flag) for flag in _PRIVILEGES[1:])


def authenticators_secure_batch(*, after_pk: int, batch: int = 500) -> tuple[int, int, int]:
    """Encrypt clear MFA secrets and re-encrypt the others under the active key, one batch of
    authenticators in its own transaction (for `rotate_keys`; resumable).

    Returns (last pk seen, rows scanned, rows changed)."""

    def secure(row: Authenticator) -> dict | None:
        data = mfa_secrets.secured_data(row.data)
        return {"data": data} if data != row.data else None

    authenticators = Authenticator.objects.exclude(type=Authenticator.Type.WEBAUTHN)
    return rotation.run_batch(
        "mfa_authenticator", authenticators, secure, after_pk=after_pk, batch=batch
    )
