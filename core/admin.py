"""Shared pieces of the admin site."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _


class ReadOnlyAdmin:
    """A model admin that lists and shows rows but never adds, changes or deletes them: records
    (audit events, incidents, heartbeats) are written by the portal's actions, never by hand.
    Mix in before `admin.ModelAdmin`."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class JsonExamples:
    """Help texts of JSON fields in the admin: a sentence in the reader's language, then the
    example on a line of its own (JSON keys are typed as they are, in any language).
    `json_examples` maps a field's name to pairs of (sentence, example). Mix in before
    `admin.ModelAdmin`."""

    json_examples: dict[str, list[tuple[str, str]]] = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        examples = self.json_examples.get(db_field.name)
        if field is not None and examples:
            field.help_text = format_html_join(
                mark_safe("<br>"), "{}<br>{}", ((str(text), ex) for text, ex in examples)
            )
        return field


class ActionAdmin:
    """A model admin whose adds and changes go through the audited actions: `create` and
    `update` call them, and a refusal (an exception of `refused`) is shown as an error message
    and saves nothing. Rows are never deleted here. Mix in before `admin.ModelAdmin`."""

    refused: type[Exception] | tuple[type[Exception], ...] = ()

    def create(self, request, obj) -> None:
        raise NotImplementedError

    def update(self, request, obj) -> None:
        raise NotImplementedError

    def refusal(self, request, exc: Exception) -> None:
        messages.error(request, str(exc))

    def save_model(self, request, obj, form, change):
        try:
            if change:
                self.update(request, obj)
            else:
                self.create(request, obj)
        except self.refused as exc:
            self.refusal(request, exc)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class NamedActionAdmin(ActionAdmin):
    """An `ActionAdmin` of rows with a slug fixed at creation and a translated name
    (departments, services)."""

    @admin.display(description=_("name"), ordering="name")
    def name_shown(self, obj) -> str:
        return obj.name_translated

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj else []
