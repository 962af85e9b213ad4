"""Models of the open-data releases."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReleaseImmutable(RuntimeError):
    """A published release was about to be changed or removed."""


class Release(models.Model):
    """One published month of statistics: the signed document as it was published, never
    changed afterwards (the model refuses a second save, the database refuses UPDATE, DELETE
    and TRUNCATE: see `guards.py`)."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    # The first day of the month it covers; one release per month, so that months never
    # overlap and a cell withheld in one release is not published by another.
    period = models.DateField(_("month"), unique=True)
    published_at = models.DateTimeField(_("published"))
    threshold_k = models.PositiveIntegerField(_("suppression threshold"))
    # Differential privacy: the privacy-loss budget this release spent (None: exact counts).
    epsilon = models.DecimalField(
        _("privacy budget (epsilon)"), max_digits=8, decimal_places=4, null=True, blank=True
    )
    # The document as published, signature included (signing.canonical gives its bytes).
    document = models.JSONField(_("document"))
    digest = models.CharField(_("SHA-256 of the signed bytes"), max_length=64)
    key_id = models.CharField(_("signing key id"), max_length=64)
    signature = models.CharField(_("signature"), max_length=200)

    class Meta:
        verbose_name = _("open-data release")
        verbose_name_plural = _("open-data releases")
        ordering = ["-period"]
        permissions = [("publish_release", _("Can publish open-data releases"))]

    def __str__(self) -> str:
        return f"v{self.version} {self.period:%Y-%m}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None or not self._state.adding:
            raise ReleaseImmutable("a published release cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ReleaseImmutable("a published release cannot be removed")

    @property
    def audit_ref(self) -> str:
        return f"v{self.version}"

    @property
    def month(self) -> str:
        return f"{self.period:%Y-%m}"
