"""Users (email login), departments and memberships."""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractBaseUser, Group, PermissionsMixin
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import NamedBySlug
from core.translations import translated

from .constants import MembershipRole, Role, StaffRole


class UserManager(DjangoUserManager):
    """Email is the login; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):  # type: ignore[override]
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.update(is_staff=True, is_superuser=True, staff_role=StaffRole.ADMIN)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):  # type: ignore[override]
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    staff_role = models.CharField(
        _("portal-wide role"), max_length=20, choices=StaffRole.choices, blank=True, default=""
    )
    is_staff = models.BooleanField(
        _("admin site access"), default=False, help_text=_("May sign in to the admin site.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # The language the person chose (a code from settings.LANGUAGES), or "" for "not chosen":
    # pages then follow the browser, emails the portal's default.
    language = models.CharField(_("language"), max_length=16, blank=True, default="")
    # A service account (a department's back-office system calling the API with scoped tokens;
    # accounts/service_accounts.py): its department, label and the official answerable for it.
    # On the user row, not a table of its own, so the role (`primary_role`) and the audit's
    # "responsible" cost no query, on token calls and on audit pages alike.
    service_department = models.ForeignKey(
        "Department",
        verbose_name=_("department of the service account"),
        on_delete=models.PROTECT,
        related_name="service_accounts",
        null=True,
        blank=True,
    )
    service_label = models.CharField(_("system label"), max_length=100, blank=True, default="")
    service_responsible = models.ForeignKey(
        "self",
        verbose_name=_("responsible official"),
        on_delete=models.PROTECT,
        related_name="service_accounts_responsible_for",
        null=True,
        blank=True,
    )
    service_created_by = models.ForeignKey(
        "self",
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    @property
    def audit_ref(self) -> str:
        return str(self.pk)

    @property
    def is_service_account(self) -> bool:
        return self.service_department_id is not None

    @property
    def audit_responsible(self) -> int | None:
        """The official answerable for a service account's acts, which every audit event it
        records names (`audit.actions`); None for a person."""
        return self.service_responsible_id if self.is_service_account else None

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        # Names are not always "given family" (e.g. Chinese names): use the whole name.
        return self.full_name or self.email

    @cached_property
    def group_ids(self) -> frozenset[int]:
        """The user's groups (one query, cached per request): object permissions are granted
        to groups, and `membership_roles` is read from them."""
        if not self.pk:
            return frozenset()
        return frozenset(self.groups.values_list("pk", flat=True))

    @cached_property
    def department_roles(self) -> dict[int, str]:
        """{department id: "lead" or "clerk"} for the active departments whose groups the user
        is in (the groups memberships keep in step; one query, cached per request)."""
        groups = self.group_ids
        if not groups:
            return {}
        return {
            pk: MembershipRole.LEAD if leads in groups else MembershipRole.CLERK
            for pk, leads in Department.objects.filter(active=True)
            .filter(models.Q(group_id__in=groups) | models.Q(lead_group_id__in=groups))
            .values_list("pk", "lead_group_id")
        }

    @cached_property
    def membership_roles(self) -> frozenset[str]:
        """The department roles this user holds (from `department_roles`, which token
        authentication reads with the token)."""
        return frozenset(self.department_roles.values())

    def forget_roles(self) -> None:
        """Drop what was cached about the user's groups and roles (after changing them)."""
        for name in (
            *("group_ids", "department_roles", "membership_roles", "primary_role"),
            *("member_department_ids", "_perm_cache", "_user_perm_cache", "_group_perm_cache"),
        ):
            self.__dict__.pop(name, None)

    @cached_property
    def primary_role(self) -> str:
        """The highest role: admin > supervisor > lead > clerk > citizen; a service account is
        its department's system, whatever else it holds."""
        if self.is_service_account:
            return Role.SYSTEM
        if self.is_superuser or self.staff_role == StaffRole.ADMIN:
            return Role.ADMIN
        if self.staff_role == StaffRole.SUPERVISOR:
            return Role.SUPERVISOR
        roles = self.membership_roles
        if MembershipRole.LEAD in roles:
            return Role.LEAD
        if MembershipRole.CLERK in roles:
            return Role.CLERK
        return Role.CITIZEN

    @property
    def is_portal_staff(self) -> bool:
        return self.primary_role != Role.CITIZEN


class Department(NamedBySlug):
    """A government department that handles its part of applications."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    translations = models.JSONField(
        _("translations"),
        default=dict,
        blank=True,
        help_text=_('Per language: {"en": {"name": "…"}}'),
    )
    # Object permissions on this department's cases are granted to these groups: `group` holds
    # every member (clerks and leads), `lead_group` the leads only (docs/permissions.md).
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="department")
    lead_group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="led_department", null=True, blank=True
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    @property
    def name_translated(self) -> str:
        """The name in the active language (core.translations)."""
        return translated(self, "name")


class Membership(models.Model):
    """A user's role in one department."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices)
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department"], name="membership_unique_user_department"
            )
        ]
        indexes = [models.Index(fields=["department", "role"], name="membership_dept_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} - {self.department} ({self.get_role_display()})"

    @property
    def audit_ref(self) -> str:
        return f"{self.department.slug}:{self.user_id}"


class ApiToken(models.Model):
    """An API credential. Only the SHA-256 digest of the key is stored: the key itself is shown
    once, when it is issued, and cannot be read back from the database."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    # The first characters of the key, so the owner can tell tokens apart; not enough to use it.
    prefix = models.CharField(_("prefix"), max_length=12)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    # What a service account's token may do (accounts/scopes.py); empty for a person's token,
    # which carries the person's own rights.
    scopes = models.JSONField(_("scopes"), default=list, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def audit_ref(self) -> str:
        return f"{self.user_id}:{self.prefix}"
