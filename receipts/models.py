"""The documents the portal issued: one row per distinct PDF, never its bytes.

The row holds what verification needs: the token the verification code is built on (with the
key id the code was signed under), the SHA-256 of the exact bytes handed out, and the digest of
the content that went into it, so a second download of an unchanged receipt is the same
document (same code, same bytes) rather than a new one.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    LETTER = "letter", _("Decision letter")


class IssuedDocument(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=DocumentKind.choices)
    application = models.ForeignKey(
        "services.Application", on_delete=models.PROTECT, related_name="+"
    )
    # The decided case a letter is about; empty for a receipt.
    case = models.ForeignKey(
        "workflows.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Random, URL-safe; the verification code is `<token>.<key_id>.<mac>` (receipts.codes).
    token = models.CharField(_("token"), max_length=32, unique=True)
    key_id = models.CharField(_("key id"), max_length=16)
    language = models.CharField(_("language"), max_length=16)
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    # SHA-256 (hex) of the PDF's bytes, for the upload check.
    digest = models.CharField(_("digest of the PDF"), max_length=64, db_index=True)
    # SHA-256 (hex) of what the document says, to hand out the same document again.
    content_digest = models.CharField(_("digest of the content"), max_length=64)

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(
                fields=["application", "kind", "language", "content_digest"],
                name="receipts_doc_content_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.token}"
