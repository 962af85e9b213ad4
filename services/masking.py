"""Masking of personal values, shared by every place staff see personal data.

The rule of each kind (national ID 4+4 characters, phone 3+4, a date's year only…) is its
`FieldKind.mask` in services.fields.
"""

from __future__ import annotations

from typing import Any

from .fields import kind_for


def mask(definition: Any, value: Any) -> str:
    """What staff see of a personal value until they reveal it with a purpose."""
    return kind_for(definition.type).mask(value)
