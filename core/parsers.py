"""Request parsers: JSON that cannot be answers (too deep, too long, too big, non-finite
numbers) is a 400, refused before json.loads builds anything.

The shape of the document (nesting depth, items per list or object, items in all, string
lengths) is checked by one regular-expression scan of the text that stops at the first limit
exceeded, so a body of a million tiny items costs a few thousand steps, not a million objects
and their validation. Limits: JSON_MAX_* settings.

Kept apart from core.api: DRF imports the default parsers while building APIView, so this
module must not import DRF's views.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

from django.conf import settings
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
            check_shape(text)
            data = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
            _check_text(data)
            return data
        except RecursionError as exc:
            raise exceptions.ParseError(
                _("JSON parse error - the document is nested too deeply.")
            ) from exc
        except ValueError as exc:
            raise exceptions.ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc


# A JSON string (with its escapes) or one structural character; everything else (numbers,
# literals, spaces) is skipped by the scan in C.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.S)


def check_shape(text: str) -> None:
    """Refuse (ParseError) a document over the depth, size or string limits, scanning it once
    and stopping at the first limit exceeded. Malformed text is left to json.loads."""
    max_depth, max_items = settings.JSON_MAX_DEPTH, settings.JSON_MAX_ITEMS
    max_members, max_chars = settings.JSON_MAX_CONTAINER_ITEMS, settings.JSON_MAX_STRING_CHARS
    members: list[int] = []  # commas seen in each open list or object
    items = 0
    for match in _TOKENS.finditer(text):
        start = match.start()
        char = text[start]
        if char == '"':
            if match.end() - start - 2 > max_chars:
                raise exceptions.ParseError(
                    _("JSON parse error - a text is longer than %(n)s characters.")
                    % {"n": max_chars}
                )
            continue
        if char in "[{":
            members.append(0)
            items += 1
            if len(members) > max_depth:
                raise exceptions.ParseError(
                    _("JSON parse error - the document is nested too deeply.")
                )
        elif char in "]}":
            if members:
                members.pop()
        else:
            items += 1
            if members:
                members[-1] += 1
                if members[-1] >= max_members:
                    raise exceptions.ParseError(
                        _("JSON parse error - a list or object has more than %(n)s items.")
                        % {"n": max_members}
                    )
        if items > max_items:
            raise exceptions.ParseError(
                _("JSON parse error - the document has more than %(n)s values.") % {"n": max_items}
            )


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
