"""Masking rules per kind of personal value, shared by every place staff see personal data."""

from __future__ import annotations

from typing import Any

from .constants import FieldType
from .validators import mask_value


def mask(definition: Any, value: Any) -> str:
    """What staff see of a personal value until they reveal it with a purpose."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        return "•••"
    kind = definition.type
    if kind == FieldType.NATIONAL_ID:
        return mask_value(value, keep_start=4, keep_end=4)  # area and check: 3201**********1234
    if kind == FieldType.PHONE:
        return mask_value(value, keep_start=3, keep_end=4)  # 138****5678
    if kind == FieldType.DATE:
        return value[:4] + "-**-**"  # the year only
    if kind == FieldType.EMAIL:
        name, _, domain = value.partition("@")
        return (name[:1] + "***@" + domain) if domain else "***"
    if kind in (FieldType.ADDRESS, FieldType.TEXT):
        return value[:6] + "…" if len(value) > 6 else "•••"  # the district, not the door
    return mask_value(value, keep_start=1, keep_end=1)
