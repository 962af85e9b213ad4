"""HTML forms built from the merged form: one Django form per page (section) of an application.

The forms only convert what the browser sends into JSON values; validation is the schema's
(services/schema.py), so the page and the API give the same answers to the same input.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .constants import FieldType
from .schema import MergedField
from .validators import normalise_phone

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def html_name(key: str) -> str:
    return key.replace(".", "__")


def _form_field(merged: MergedField, required: bool) -> forms.Field:
    definition = merged.definition
    common: dict[str, Any] = {
        "label": definition.label_translated,
        "help_text": definition.help_text_translated,
        "required": False,  # requirement is judged by the schema on submit, not per page save
    }
    kind = definition.type
    if kind in (FieldType.TEXT, FieldType.ADDRESS):
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), strip=True, **common)
    if kind == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.EMAIL:
        return forms.CharField(widget=forms.EmailInput(attrs={"autocomplete": "email"}), **common)
    if kind == FieldType.PHONE:
        return forms.CharField(
            widget=forms.TextInput(
                attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "tel"}
            ),
            **common,
        )
    if kind == FieldType.NATIONAL_ID:
        return forms.CharField(
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}), **common
        )
    if kind == FieldType.ENUM:
        choices = [(c["value"], c["label"]) for c in definition.choices]
        widget = forms.RadioSelect if len(choices) <= 4 else forms.Select
        if widget is forms.Select:
            choices = [("", _("Choose…")), *choices]
        return forms.ChoiceField(choices=choices, widget=widget, **common)
    if kind == FieldType.BOOLEAN:
        return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common)
    if kind in (FieldType.NUMBER, FieldType.INTEGER):
        mode = "numeric" if kind == FieldType.INTEGER else "decimal"
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": mode}), **common)
    if kind == FieldType.FILE:
        accept = ",".join((definition.validation or {}).get("content_types", []))
        return forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": accept}), **common)
    return forms.CharField(**common)


class SectionForm(forms.Form):
    """The fields of one page; `answers()` gives JSON values, `uploads()` the files."""

    def __init__(
        self,
        *args: Any,
        fields: list[MergedField],
        required: set[str],
        values: dict[str, Any],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.merged = {html_name(f.key): f for f in fields}
        for name, merged in self.merged.items():
            field = _form_field(merged, merged.key in required)
            field.is_required_answer = merged.key in required
            self.fields[name] = field
            value = values.get(merged.key)
            if merged.definition.type == FieldType.BOOLEAN and isinstance(value, bool):
                value = "yes" if value else "no"
            if merged.definition.type != FieldType.FILE and value is not None:
                self.initial[name] = value

    def answers(self) -> dict[str, Any]:
        """The submitted values as JSON values; an empty input means "no answer" (None)."""
        result: dict[str, Any] = {}
        for name, merged in self.merged.items():
            if merged.definition.type == FieldType.FILE:
                continue
            raw = self.cleaned_data.get(name)
            result[merged.key] = _to_json(merged.definition.type, raw)
        return result

    def uploads(self) -> dict[str, Any]:
        return {
            merged.key: self.cleaned_data[name]
            for name, merged in self.merged.items()
            if merged.definition.type == FieldType.FILE and self.cleaned_data.get(name)
        }

    def add_service_error(self, exc: Any) -> None:
        """Show a refused action's field errors next to the fields (or above the form)."""
        if not exc.errors:
            self.add_error(None, exc.message)
        for key, messages in exc.errors.items():
            name = html_name(key)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


def _to_json(kind: str, raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    if kind == FieldType.BOOLEAN:
        return {"yes": True, "no": False}.get(raw, raw)
    if kind == FieldType.INTEGER and re.fullmatch(r"-?\d{1,12}", raw):
        return int(raw)
    if kind == FieldType.NUMBER:
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            return raw  # the schema says "Enter a number."
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == FieldType.NATIONAL_ID:
        return raw.upper()
    if kind == FieldType.PHONE:
        return normalise_phone(raw)
    return raw


class ServiceChoiceForm(forms.Form):
    services = forms.MultipleChoiceField(
        label=_("Which services do you need?"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one service.")},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = choices
