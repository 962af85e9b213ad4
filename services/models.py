"""The catalog (data dictionary, services, versions) and the citizen's applications.

Personal values never sit in these tables in plain text: answers and profile facts whose field
is `personal` or `sensitive` are stored as AES-GCM tokens (see `services/answers.py`).

Over 400 lines: the catalog's and the applications' tables, their constraints and the direct
object-permission tables guardian reads stay side by side, so a constraint that spans two of
them is read in one place.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.models import NamedBySlug
from core.translations import translated
from privacy.freetext import opened

from .constants import (
    SECTION_TITLES,
    ApplicationStatus,
    FieldType,
    Sensitivity,
    ServiceKind,
    VersionStatus,
)

FIELD_KEY_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
    _("Use lower-case words joined by dots, e.g. applicant.national_id."),
)


class FieldDefinition(models.Model):
    """One fact in the shared data dictionary, asked once whichever services need it."""

    key = models.CharField(_("key"), max_length=100, unique=True, validators=[FIELD_KEY_VALIDATOR])
    label = models.CharField(_("label"), max_length=200)
    # The label clerks read ("Applicant's full name") where `label` speaks to the citizen
    # ("Your full name"); empty means the citizen's label serves both.
    staff_label = models.CharField(_("staff label"), max_length=200, blank=True, default="")
    help_text = models.TextField(_("help text"), blank=True)
    translations = models.JSONField(
        _("translations"),
        default=dict,
        blank=True,
        help_text=_('Per language: {"zh-hans": {"label": "…", "help_text": "…"}}'),
    )
    type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_('For choice fields: [{"value": "…", "label": "…"}]'),
    )
    validation = models.JSONField(
        _("validation"),
        default=dict,
        blank=True,
        help_text=_(
            "Optional rules: min_length, max_length, pattern, minimum, maximum, not_future, "
            "not_past; for files max_size_mb and content_types."
        ),
    )
    sensitivity = models.CharField(_("sensitivity"), max_length=10, choices=Sensitivity.choices)
    example = models.JSONField(_("example"), null=True, blank=True, help_text=_("A valid value."))
    profile_field = models.BooleanField(
        _("stable fact of the citizen's profile"),
        default=False,
        help_text=_("Kept in the citizen's profile and used to prefill applications."),
    )

    class Meta:
        verbose_name = _("field definition")
        verbose_name_plural = _("data dictionary")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    @property
    def audit_ref(self) -> str:
        return self.key

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def section_title(self) -> str:
        return str(SECTION_TITLES.get(self.section, self.section.replace("_", " ").capitalize()))

    @property
    def label_translated(self) -> str:
        """The citizen's label in the active language (core.translations)."""
        return translated(self, "label")

    @property
    def help_text_translated(self) -> str:
        return translated(self, "help_text")

    @property
    def staff_label_translated(self) -> str:
        """The label staff read in the active language: the staff label of that language, else
        the base staff label, else the citizen's label (a field without a staff label)."""
        own = translated(self, "staff_label", any_language=False)
        return own or self.label_translated

    def choice_label(self, value: object) -> str:
        """The label of one choice of an enum field in the active language (the value itself
        when it is not a choice)."""
        for choice in self.choices or []:
            if choice.get("value") == value:
                return translated(choice, "label")
        return "" if value is None else str(value)


class Service(NamedBySlug):
    """A life event or a single service in the catalog."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=ServiceKind.choices, default=ServiceKind.LIFE_EVENT
    )
    keywords = models.CharField(_("search keywords"), max_length=300, blank=True)
    translations = models.JSONField(_("translations"), default=dict, blank=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]

    @property
    def name_translated(self) -> str:
        return translated(self, "name")

    @property
    def description_translated(self) -> str:
        return translated(self, "description")


class ServiceVersion(models.Model):
    """The fields a service asks and its workflow. Immutable once published."""

    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    fields = models.JSONField(
        _("fields"),
        default=list,
        help_text=_('[{"key": "applicant.full_name", "required": true, "condition": null}, …]'),
    )
    workflow = models.JSONField(
        _("workflow definition"),
        default=dict,
        help_text=_(
            '{"steps": [{"id": "registry", "department": "civil-registry", "fields": [...], '
            '"depends_on": [], "condition": null, "sla_days": 5, '
            '"on_reject": "cancel_dependents"}]}'
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        default=730,
        help_text=_("Personal answers are erased this many days after completion or withdrawal."),
    )

    class Meta:
        verbose_name = _("service version")
        verbose_name_plural = _("service versions")
        ordering = ["service", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "number"], name="service_version_unique_number"
            ),
            # At most one published version per service: the one new applications start with.
            models.UniqueConstraint(
                fields=["service"],
                condition=models.Q(status="published"),
                name="service_version_one_published",
            ),
        ]

    def __str__(self) -> str:
        return _("%(service)s, version %(number)s (%(status)s)") % {
            "service": self.service.slug,
            "number": self.number,
            "status": self.get_status_display(),
        }

    @property
    def audit_ref(self) -> str:
        return f"{self.service.slug}:{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class CitizenProfile(models.Model):
    """The citizen's stable facts (name, national ID, ...), sealed; used to prefill forms."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # {field key: value or AES-GCM token}; keys are data-dictionary keys with profile_field set.
    data = models.JSONField(default=dict, blank=True)
    national_id_index = models.CharField(max_length=64, blank=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("citizen profile")
        verbose_name_plural = _("citizen profiles")

    def __str__(self) -> str:
        return f"profile of {self.user_id}"

    @property
    def sealing_row(self) -> str:
        """The row part of the associated data of every sealed fact (binds them to this user)."""
        return f"profile:{self.user_id}"

    @property
    def audit_ref(self) -> str:
        return str(self.user_id)


class Application(models.Model):
    """One citizen's application for one or more services, asked once."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    versions = models.ManyToManyField(
        ServiceVersion, related_name="applications", verbose_name=_("services")
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.DRAFT,
    )
    # {field key: value or AES-GCM token}; see services/answers.py.
    answers = models.JSONField(default=dict, blank=True)
    # Task-list sections the citizen marked as completed (section keys), for long applications.
    sections_done = models.JSONField(default=list, blank=True)
    national_id_index = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    updated_at = models.DateTimeField(_("last saved"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # Set when the personal values were erased; the row stays as a tombstone.
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)
    # The routing outbox: set in the same transaction as every change the engine must react to,
    # cleared by the engine once applied. The sweeper routes what stays set too long.
    routing_requested_at = models.DateTimeField(
        _("routing requested"), null=True, blank=True, db_index=True
    )
    routed_at = models.DateTimeField(_("last routed"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["citizen", "-created_at"], name="application_citizen_idx")]
        # Granted to a citizen's representative (docs/permissions.md); the owner holds them all
        # by owning the application. `view_application` is Django's default.
        permissions = [
            ("act_on_application", _("Can reply and upload files for an application")),
            ("withdraw_application", _("Can withdraw an application")),
            ("erase_application", _("Can erase an application's personal data")),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def sealing_row(self) -> str:
        """The row part of the associated data of every sealed answer: a token copied into
        another application's row does not open there."""
        return f"application:{self.reference}"

    @property
    def audit_ref(self) -> str:
        return self.reference


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the citizen's file name on disk: a random name in a per-application folder.
    return f"attachments/{instance.application.reference}/{instance.token}"


class Attachment(models.Model):
    """A file uploaded for a `file` field; stored outside the web root, served after a check."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    field_key = models.CharField(_("field"), max_length=100)
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    # Sealed (privacy/freetext.py): read it through `name_plain`. The token of a 200-character
    # name (at most 800 UTF-8 bytes) is at most about 1,130 characters.
    original_name = models.CharField(_("file name"), max_length=1200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    # The key the stored file is encrypted under ("" for a file stored before files were
    # encrypted; `rotate_keys` encrypts those).
    key_id = models.CharField(max_length=16, blank=True, default="")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [
            models.Index(fields=["application", "field_key"], name="attachment_app_field_idx")
        ]

    def __str__(self) -> str:
        return f"{self.field_key} ({self.token})"

    @property
    def audit_ref(self) -> str:
        return f"{self.application.reference}:{self.token}"

    @property
    def aad(self) -> str:
        return f"attachment:{self.token}"

    def sealed_text_aad(self, column: str) -> str:
        return f"{self.aad}:{column}"

    name_plain = opened("original_name")  # the citizen's file name


class ApplicationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Application, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("application permission of a user")
        verbose_name_plural = _("application permissions of users")


class ApplicationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Application, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("application permission of a group")
        verbose_name_plural = _("application permissions of groups")


class Representation(models.Model):
    """A citizen's authorisation for another citizen to view and act on one application: reply
    to information requests and upload files, and withdraw or erase it only when given those
    rights. The rights themselves are object permissions on the application (guardian);
    this row records who gave them, when, and when they were taken back."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="representations",
    )
    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("representative"),
        on_delete=models.PROTECT,
        related_name="representations",
    )
    may_withdraw = models.BooleanField(_("may withdraw"), default=False)
    may_erase = models.BooleanField(_("may erase"), default=False)
    created_at = models.DateTimeField(_("authorised"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("representative")
        verbose_name_plural = _("representatives")
        ordering = ["created_at", "id"]
        constraints = [
            # One standing authorisation per person and application (a new one after revoking).
            models.UniqueConstraint(
                fields=["application", "representative"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_representation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.representative_id} for {self.application_id}"

    @property
    def audit_ref(self) -> str:
        return f"{self.application.reference}:{self.representative_id}"
