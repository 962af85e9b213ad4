"""Abstract bases shared by the apps' models (no tables of their own)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.translations import translated


class NamedBySlug(models.Model):
    """A row people know by its name and the audit log by its slug (a department, a service),
    that can be switched off without being deleted."""

    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return translated(self, "name")  # in the reader's language (core.translations)

    @property
    def audit_ref(self) -> str:
        return self.slug
