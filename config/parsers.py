"""Request parsers: JSON that cannot be answers (too deep, non-finite numbers) is a 400.

Kept apart from config.api: DRF imports the default parsers while building APIView, so this
module must not import DRF's views.
"""

from __future__ import annotations

import codecs
import json
import math
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity, which no answer can hold
        raise ValueError("number out of range")
    return value


class BoundedJSONParser(JSONParser):
    """JSON that is nested too deeply or holds non-finite numbers is bad input (400), not a 500."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict | None = None
    ) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
            _check_text(data)
            return data
        except RecursionError as exc:
            raise exceptions.ParseError(
                _("JSON parse error - the document is nested too deeply.")
            ) from exc
        except ValueError as exc:
            raise exceptions.ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _check_text(value: Any) -> None:
    """Strings must be valid Unicode: a lone surrogate can be neither stored nor encrypted."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("text with an invalid character (a lone surrogate)") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
