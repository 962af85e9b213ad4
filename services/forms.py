"""HTML forms built from the merged form: one Django form per page (section) of an application.

The forms only convert what the browser sends into JSON values; validation is the schema's
(services/schema.py), so the page and the API give the same answers to the same input.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .fields import kind_for
from .schema import MergedField

COMPLETED_FIELD = "section_completed"
COMPLETED_CHOICES = [
    ("yes", _("Yes, I have completed this section")),
    ("no", _("No, I will come back to it later")),
]


def html_name(key: str) -> str:
    return key.replace(".", "__")


def _form_field(merged: MergedField) -> forms.Field:
    definition = merged.definition
    return kind_for(definition.type).form_field(
        definition,
        label=definition.label_translated,
        help_text=definition.help_text_translated,
        required=False,  # requirement is judged by the schema on submit, not per page save
    )


class SectionForm(forms.Form):
    """The fields of one page; `answers()` gives JSON values, `uploads()` the files."""

    def __init__(
        self,
        *args: Any,
        fields: list[MergedField],
        required: set[str],
        values: dict[str, Any],
        ask_completed: bool = False,
        completed: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.merged = {html_name(f.key): f for f in fields}
        for name, merged in self.merged.items():
            field = _form_field(merged)
            field.is_required_answer = merged.key in required
            self.fields[name] = field
            initial = kind_for(merged.definition.type).form_initial(values.get(merged.key))
            if initial is not None:
                self.initial[name] = initial
        if ask_completed:
            # The task list's question at the end of a section (not an answer of the form).
            self.fields[COMPLETED_FIELD] = forms.ChoiceField(
                label=_("Have you completed this section?"),
                choices=COMPLETED_CHOICES,
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields[COMPLETED_FIELD].is_required_answer = True
            self.initial[COMPLETED_FIELD] = "yes" if completed else None

    def completed(self) -> bool:
        """The answer to "Have you completed this section?" (no answer: not yet)."""
        return self.cleaned_data.get(COMPLETED_FIELD) == "yes"

    def answers(self) -> dict[str, Any]:
        """The submitted values as JSON values; an empty input means "no answer" (None)."""
        result: dict[str, Any] = {}
        for name, merged in self.merged.items():
            kind = kind_for(merged.definition.type)
            if kind.is_file:
                continue
            result[merged.key] = kind.from_form(self.cleaned_data.get(name))
        return result

    def uploads(self) -> dict[str, Any]:
        return {
            merged.key: self.cleaned_data[name]
            for name, merged in self.merged.items()
            if kind_for(merged.definition.type).is_file and self.cleaned_data.get(name)
        }

    def add_refusal(self, key: str, message: str) -> None:
        """Show a refused action's message next to the field it names (or above the form)."""
        name = html_name(key) if key else ""
        self.add_error(name if name in self.fields else None, message)


class ServiceChoiceForm(forms.Form):
    services = forms.MultipleChoiceField(
        label=_("Which services do you need?"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one service.")},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = choices


class RepresentativeForm(forms.Form):
    """The applicant authorises another citizen on one application."""

    email = forms.EmailField(label=_("Their email address"), max_length=254)
    national_id = forms.CharField(
        label=_("Their national ID"),
        max_length=32,
        help_text=_("As saved in their profile on this portal."),
    )
    may_withdraw = forms.BooleanField(label=_("May withdraw the application"), required=False)
    may_erase = forms.BooleanField(
        label=_("May erase the application's personal data"), required=False
    )

    def add_refusal(self, key: str, message: str) -> None:
        self.add_error(key if key in self.fields else None, message)
