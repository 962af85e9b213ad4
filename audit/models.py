"""The audit log: one row per action or read of personal data.

Rows are only ever inserted (database triggers refuse UPDATE and DELETE). Each event carries an
authenticator the application computes when it writes it, with a key the database never holds;
a sealer chains events by hash in the background and signed checkpoints of the chain head are
exported outside the database (audit/chain.py, audit/checkpoints.py).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """An append-only record of who did what to which object, and why."""

    id = models.BigAutoField(primary_key=True, verbose_name=_("sequence"))
    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # PROTECT: a user with audit history is deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_role = models.CharField(_("actor role"), max_length=20, blank=True)
    actor_department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("actor department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Values from AuditAction; not DB choices, so adding an action needs no migration.
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_ref = models.CharField(_("target reference"), max_length=64, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("subject"),
        help_text=_("The citizen whose data the event concerns."),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    purpose = models.TextField(_("purpose"), blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=16, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # Written with the event by the application (audit.actions): a unique nonce that makes
    # every event's authenticated body unique, and `kid:HMAC` of that body.
    nonce = models.CharField(_("nonce"), max_length=32, unique=True, null=True, blank=True)
    mac = models.CharField(_("authenticator"), max_length=96, blank=True)
    # Set once by the sealer (audit.actions.audit_seal), in the order it chains events; the
    # database refuses any other change to a row (see the migration's triggers).
    chain_seq = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["target_type", "target_ref", "id"], name="audit_target_idx"),
            models.Index(fields=["actor", "id"], name="audit_actor_idx"),
            models.Index(fields=["subject", "id"], name="audit_subject_idx"),
            models.Index(fields=["action", "id"], name="audit_action_idx"),
            models.Index(fields=["request_id"], name="audit_request_idx"),
            # The sealer's queue: only the few unsealed events, however long the log grows.
            models.Index(
                fields=["id"], condition=models.Q(chain_seq__isnull=True), name="audit_unsealed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_ref}"


class AuditCheckpoint(models.Model):
    """A signed statement of the chain head, made every few events or minutes and exported
    outside the database as it is made, so a rewrite, a cut or a rollback is detectable.
    Checkpoints are numbered from 1 and each signs the signature of the one before."""

    number = models.BigIntegerField(_("number"), unique=True, null=True)
    chain_seq = models.BigIntegerField(_("chain position"), unique=True)
    head_hash = models.CharField(max_length=64)
    prev_signature = models.CharField(max_length=64, blank=True)
    signature = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["chain_seq"]

    def __str__(self) -> str:
        return f"checkpoint at {self.chain_seq}"


class AuditIncidentKind(models.TextChoices):
    FORGED_EVENT = "forged_event", _("event with a wrong authenticator")
    EXPORT_MISMATCH = "export_mismatch", _("exported checkpoint differs from the database")


class AuditIncident(models.Model):
    """Something the sealer refused or found wrong, for supervisors and administrators to look
    into. A forged event named here is never chained and never shown to a citizen."""

    kind = models.CharField(_("kind"), max_length=32, choices=AuditIncidentKind.choices)
    event_id = models.BigIntegerField(_("event"), null=True, blank=True, unique=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    detected_at = models.DateTimeField(_("detected"), default=timezone.now)

    class Meta:
        verbose_name = _("audit incident")
        verbose_name_plural = _("audit incidents")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.event_id or ''}".strip()


class DataKey(models.Model):
    """The key that seals one application's free text inside audit events (reveal purposes).

    Audit events can never be changed or deleted, so erasure cannot remove a purpose written in
    one; it destroys this key instead (crypto-shredding): the event and the hash chain stay, the
    purpose can no longer be read. The key is stored wrapped (encrypted) under the portal's
    keyring, so rotating those keys re-wraps this row and never touches an audit event.
    """

    scope = models.CharField(_("scope"), max_length=64, unique=True)
    # An `privacy.crypto` token of the base64 key, bound to the scope; "" once shredded.
    wrapped = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    shredded_at = models.DateTimeField(_("destroyed"), null=True, blank=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")

    def __str__(self) -> str:
        return self.scope


class VerificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class AuditVerification(models.Model):
    """One verification of the whole audit log, run by a worker (a long chain takes minutes):
    its progress while it runs, and `audit_verify`'s result when it is done."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=VerificationStatus.choices,
        default=VerificationStatus.QUEUED,
    )
    # Events checked so far, of `total` (the sealed events when it started).
    checked = models.BigIntegerField(_("checked"), default=0)
    total = models.BigIntegerField(_("total"), default=0)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit verification")
        verbose_name_plural = _("audit verifications")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.status}"
