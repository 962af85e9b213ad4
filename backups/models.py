"""Models of backups and restore drills: one row per backup or drill run, and the incidents a
failed run opens (the pattern of `workflows.Incident`: visible to administrators, resolved by
hand once the cause is fixed)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RunKind(models.TextChoices):
    BACKUP = "backup", _("Backup")
    DRILL = "drill", _("Restore drill")


class BackupRun(models.Model):
    """A backup written, or a drill that restored an archive into a scratch database."""

    kind = models.CharField(_("kind"), max_length=10, choices=RunKind.choices)
    archive = models.CharField(_("archive"), max_length=500)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    ok = models.BooleanField(_("succeeded"), default=False)
    # What the run found: the manifest's figures, or the drill's checks (no personal data).
    report = models.JSONField(_("report"), default=dict, blank=True)

    class Meta:
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"


class BackupIncident(models.Model):
    """A backup or drill that failed: an administrator must look."""

    run = models.ForeignKey(
        BackupRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="incidents"
    )
    error = models.TextField(_("error"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        verbose_name = _("backup incident")
        verbose_name_plural = _("backup incidents")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.run)
