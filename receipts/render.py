"""A document's PDF: a Django template rendered by WeasyPrint, the QR code drawn by segno.

The output depends only on its inputs (the content, the code, the date of issue, the
language): WeasyPrint writes no clock time into the file unless the HTML asks for it, so the
same document rendered again is the same bytes, and its digest still matches the one recorded
when it was first issued. Chinese text is set in Noto Sans CJK SC (Debian's fonts-noto-cjk,
`make pdf-fonts`), embedded as a subset so the text can be copied and extracted.
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

TEMPLATES = {"receipt": "receipts/receipt_pdf.html", "letter": "receipts/letter_pdf.html"}


def verify_url(code: str) -> str:
    base = settings.PORTAL_BASE_URL.rstrip("/")
    return base + reverse("receipts:verify-code", kwargs={"code": code})


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=3, border=2)


def render_pdf(*, kind: str, content: dict, code: str, issued: str, language: str) -> bytes:
    url = verify_url(code)
    with translation.override(language):
        html = render_to_string(
            TEMPLATES[kind],
            {
                "doc": content,
                "code": code,
                "issued": issued,
                "verify_url": url,
                "qr": qr_data_uri(url),
                "language": language,
            },
        )
    # Imported here, not at the top: WeasyPrint loads Pango when imported, and a machine
    # without it (`make pdf-fonts`) should still serve every page but the PDFs.
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf()
