"""Cases (one department's part of one application), their object permissions, incidents,
and the worker heartbeat that /healthz reads.

Over 400 lines: cases and what hangs on them (permissions, information requests, notes,
consultations and opinions), the incidents and heartbeat of the routing, and the delegations
between members, kept side by side with their constraints so the engine's tables read in one
place.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.translations import translated
from privacy.freetext import SealedRow, opened

from .constants import ACTIVE_CASE_STATES, CaseStatus

ACTIVE_STATUSES = sorted(str(s) for s in ACTIVE_CASE_STATES)


class Case(models.Model):
    """One department's part of one application, created and moved by the engine."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    application = models.ForeignKey(
        "services.Application", on_delete=models.PROTECT, related_name="cases"
    )
    version = models.ForeignKey(
        "services.ServiceVersion", on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, related_name="cases"
    )
    step = models.CharField(_("step"), max_length=60)
    step_name = models.CharField(_("step name"), max_length=200, blank=True)
    # The answers this department may see (need to know), copied from the definition.
    fields = models.JSONField(_("fields"), default=list)
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    sla_days = models.PositiveSmallIntegerField(_("SLA (business days)"), default=5)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # Sealed (privacy/freetext.py): read it through `decision_note_plain`.
    decision_note = models.TextField(_("decision note"), blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    breached_at = models.DateTimeField(_("deadline missed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["due_at", "id"]
        constraints = [
            # The engine's idempotency: one case per step of a service of an application.
            models.UniqueConstraint(
                fields=["application", "version", "step"], name="case_unique_step"
            ),
        ]
        # The inbox reads the first rows of one of these in (due date, id) order and stops, so
        # a page costs the same at 10,000 cases as at 1,000,000 (bench/README.md, inbox).
        indexes = [
            # The "to do" tab of a department, and of everyone (supervisors): open work only,
            # so these stay as small as the backlog while decided cases pile up.
            models.Index(
                fields=["department", "due_at", "id"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="case_dept_active_due_idx",
            ),
            models.Index(
                fields=["due_at", "id"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="case_active_due_idx",
            ),
            # One status tab of a department (and its capped count); all statuses.
            models.Index(
                fields=["department", "status", "due_at", "id"],
                name="case_dept_status_due_id_idx",
            ),
            models.Index(fields=["department", "due_at", "id"], name="case_dept_due_idx"),
            # Assigned to me / to nobody (the lead's queue): without the assignee in an index,
            # counting a department's unassigned approved cases read every approved case.
            models.Index(
                fields=["department", "status", "assignee", "due_at", "id"],
                name="case_dept_status_assignee_idx",
            ),
            # Deadline scans (sla_scan).
            models.Index(fields=["status", "due_at"], name="case_status_due_idx"),
            # The dashboards' summaries read the cases changed since their last run.
            models.Index(fields=["updated_at", "id"], name="case_updated_idx"),
        ]
        # Object permissions (docs/permissions.md): `view_case` reads the step's fields, masked;
        # `change_case` acts (claim, decide, ask, note, reveal); these two more:
        permissions = [
            ("assign_case", _("Can assign a case to a member of staff")),
            ("consult_case", _("Can read a shared case's chosen fields and give an opinion")),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def audit_ref(self) -> str:
        return self.reference

    @property
    def step_key(self) -> str:
        return f"{self.version.service.slug}:{self.step}"

    @property
    def step_name_translated(self) -> str:
        """The step's name in the active language, from the version's workflow (the name copied
        at routing when the step has no text of that language). Lists that defer the workflow
        set `workflow_steps` (workflows.selectors.with_step_names); without either, the copied
        name is shown rather than a query per row."""
        steps = getattr(self, "workflow_steps", None)
        if steps is None:
            version = self.version
            if "workflow" in version.get_deferred_fields():
                return self.step_name
            steps = (version.workflow or {}).get("steps", [])
        for step in steps:
            if step.get("id") == self.step:
                return translated({**step, "name": step.get("name") or self.step_name}, "name")
        return self.step_name

    def sealed_text_aad(self, column: str) -> str:
        return f"case:{self.reference}:{column}"

    decision_note_plain = opened("decision_note")  # the approval note or rejection reason


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("case permission of a user")
        verbose_name_plural = _("case permissions of users")


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("case permission of a group")
        verbose_name_plural = _("case permissions of groups")


class Incident(models.Model):
    """Routing that failed after every retry: visible to admins, with a retry action."""

    application = models.ForeignKey(
        "services.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    task = models.CharField(_("task"), max_length=200)
    error = models.TextField(_("error"))
    traceback = models.TextField(_("traceback"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return _("%(task)s for application %(application)s") % {
            "task": self.task,
            "application": self.application_id,
        }


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the beat-scheduled heartbeat task (one row per queue)."""

    queue = models.CharField(_("queue"), max_length=50, primary_key=True)
    seen_at = models.DateTimeField(_("last seen"))
    hostname = models.CharField(_("worker"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.queue}@{self.hostname}"


class InformationRequest(SealedRow, models.Model):
    """A clerk's question to the citizen on a case, and the citizen's reply."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="information_requests")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Both sealed (privacy/freetext.py), bound to the row's id: read `message_plain`/`reply_plain`.
    message = models.TextField(_("question"))
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    reply = models.TextField(_("reply"), blank=True)
    # Field keys the citizen changed with the reply (names only: values live in the answers).
    changed_fields = models.JSONField(default=list, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    # Who sent the reply: the applicant, or a representative acting for them.
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("replied by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("information request")
        verbose_name_plural = _("information requests")
        ordering = ["asked_at", "id"]
        constraints = [
            # At most one open question per case: the case waits for one answer at a time.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(replied_at__isnull=True),
                name="one_open_request_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"question on {self.case_id}"

    sealed_kind = "information_request"
    message_plain = opened("message")
    reply_plain = opened("reply")


class WrittenOnCase(SealedRow, models.Model):
    """A text a member of staff writes on a case (a note, an opinion). Subclasses declare `case`
    and `text`; `text` is sealed (privacy/freetext.py) bound to the row's id."""

    noun = ""  # in `str()`
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.noun} on {self.case_id}"

    text_plain = opened("text")


class CaseNote(WrittenOnCase):
    """An internal note on a case: visible to the department's staff only, never to the citizen."""

    sealed_kind, noun = "case_note", "note"
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(_("note"))

    class Meta(WrittenOnCase.Meta):
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")


class Consultation(SealedRow, models.Model):
    """One case shared read-only with another department or one named official, for a stated
    reason and until an optional end: they see only `fields` (masked, revealed with a purpose)
    and may give opinions. Access is the `consult_case` object permission on the case, granted to
    the department's group or the official; this row says why, which fields, and until when, and
    an expired or revoked row grants nothing even before beat removes its permission."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="consultations"
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shared by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Exactly one of the two: a department (its group) or one official.
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department consulted"),
        on_delete=models.PROTECT,
        related_name="consultations",
        null=True,
        blank=True,
    )
    official = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("official consulted"),
        on_delete=models.PROTECT,
        related_name="consultations",
        null=True,
        blank=True,
    )
    # Sealed (privacy/freetext.py), bound to the row's id: read `reason_plain`.
    reason = models.TextField(_("reason"))
    fields = models.JSONField(_("fields shared"), default=list)
    created_at = models.DateTimeField(_("shared"), default=timezone.now)
    expires_at = models.DateTimeField(_("ends"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # Set when the permission was removed (revoked, expired and swept, or the case closed).
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=True, official__isnull=False)
                | models.Q(department__isnull=False, official__isnull=True),
                name="consultation_one_consultee",
            )
        ]
        indexes = [models.Index(fields=["ended_at", "expires_at"], name="consultation_open_idx")]

    def __str__(self) -> str:
        return f"consultation {self.pk} on {self.case_id}"

    @property
    def audit_ref(self) -> str:
        return f"{self.case.reference}:{self.pk}"

    sealed_kind = "consultation"
    reason_plain = opened("reason")


class Opinion(WrittenOnCase):
    """A consultee's opinion on a shared case; shown on the case's timeline."""

    consultation = models.ForeignKey(
        Consultation,
        verbose_name=_("consultation"),
        on_delete=models.CASCADE,
        related_name="opinions",
    )
    sealed_kind, noun = "opinion", "opinion"
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="opinions")
    text = models.TextField(_("opinion"))

    class Meta(WrittenOnCase.Meta):
        verbose_name = _("opinion")
        verbose_name_plural = _("opinions")


class DelegationScope(models.TextChoices):
    CASES = "cases", _("Their cases")
    ROLE = "role", _("Their whole role in the department")


class Delegation(models.Model):
    """A lead lets one member of a department cover for another for a period: the delegate
    acts, under their own name, with the permissions the absent member holds on their assigned
    cases (`cases`) or on all the department's cases (`role`); the audit says on whose behalf."""

    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="delegations",
    )
    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("absent member"),
        on_delete=models.PROTECT,
        related_name="delegations_given",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegate"),
        on_delete=models.PROTECT,
        related_name="delegations_received",
    )
    scope = models.CharField(
        _("scope"), max_length=10, choices=DelegationScope.choices, default=DelegationScope.CASES
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegated by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        ordering = ["-starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="delegation_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(delegator=models.F("delegate")),
                name="delegation_not_to_self",
            ),
        ]
        indexes = [
            models.Index(fields=["delegate", "ends_at"], name="delegation_delegate_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.delegator_id} -> {self.delegate_id}"

    @property
    def audit_ref(self) -> str:
        return f"{self.department.slug}:{self.pk}"
