"""Deployment checks of what the PDFs are drawn with (`manage.py check --deploy`)."""

from __future__ import annotations

import ctypes.util
from typing import Any

from django.core.checks import Warning, register
from django.utils.translation import gettext as _


def subsetter_found() -> bool:
    """Whether HarfBuzz's subsetter, which WeasyPrint subsets the embedded fonts with, is
    installed (without it WeasyPrint falls back to fontTools)."""
    return ctypes.util.find_library("harfbuzz-subset") is not None


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
