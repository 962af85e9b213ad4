from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .codes import CODE_RE

MAX_PDF_BYTES = 10 * 1024 * 1024


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=100,
        help_text=_("As printed under the QR code on the receipt or letter."),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not CODE_RE.fullmatch(code):
            raise forms.ValidationError(
                _("This is not a verification code: check what you typed against the document.")
            )
        return code


class UploadForm(forms.Form):
    document = forms.FileField(
        label=_("The PDF file of the receipt or letter"),
        help_text=_("The file exactly as you received it from the portal."),
    )

    def clean_document(self):
        document = self.cleaned_data["document"]
        if document.size > MAX_PDF_BYTES:
            raise forms.ValidationError(_("This file is too large to be a receipt."))
        return document
