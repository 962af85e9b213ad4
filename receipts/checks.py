"""Deployment checks of what the PDFs are drawn with (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Warning, register
from django.utils.translation import gettext as _


def subsetter_found() -> bool:
    """Whether WeasyPrint subsets the embedded fonts with HarfBuzz: the condition it checks
    itself before falling back to fontTools (the library loaded, HarfBuzz 4.1 or later)."""
    try:
        # Loads Pango: fine for a deployment check, not at every start (receipts.render).
        from weasyprint.text.ffi import harfbuzz, harfbuzz_subset
    except OSError:  # Pango itself is missing: no PDF can be drawn at all
        return False
    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


@register(deploy=True)
def check_font_subsetter(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if subsetter_found():
        return []
    return [
        Warning(
            _(
                "HarfBuzz's subsetter (libharfbuzz-subset) is not installed: the PDF receipts "
                "and letters are drawn slowly and not to the same bytes twice, so an unchanged "
                "receipt is issued again on every download."
            ),
            hint=_("Install the Debian package libharfbuzz-subset0 (make pdf-fonts)."),
            id="receipts.W001",
        )
    ]
