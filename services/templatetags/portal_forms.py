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


_CHOICE_WIDGETS = ("radioselect", "checkboxselectmultiple")


@register.filter
def first_input_id(field: Any) -> str:
    """The id an error summary links to: the field's input, or the first of its choices."""
    if field.widget_type in _CHOICE_WIDGETS:
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id


@register.filter
def described(field: Any) -> str:
    """The field's widget, described by its hint and its error (`aria-describedby`)."""
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    attrs = {"aria-describedby": " ".join(ids)} if ids else None
    return field.as_widget(attrs=attrs)
