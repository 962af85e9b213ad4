"""Small template helpers for the portal's forms."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """`mapping|get_item:key`: a dictionary look-up with a variable key (None when absent)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
