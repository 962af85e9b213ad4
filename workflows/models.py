"""Workflow engine state. For now: the worker heartbeat that /healthz reads."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
