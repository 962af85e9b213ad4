"""Admin: administrators build the catalog here; every write goes through an audited action.

Published versions are read-only; "create a new draft" copies one, and "publish" checks the
draft (unknown fields, unknown departments, cycles) and says what is wrong.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from core.admin import ActionAdmin, JsonExamples, NamedActionAdmin, ReadOnlyAdmin

from . import actions
from .definitions import validate_version
from .models import Application, FieldDefinition, Service, ServiceVersion
from .selectors import dictionary


def _refused(request, exc: actions.ServiceError) -> None:
    details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.errors.items())
    messages.error(request, f"{exc.message} {details}".strip())


class CatalogAdmin(ActionAdmin):
    """Catalog writes through the audited actions; a refusal lists what is wrong."""

    refused = actions.ServiceError

    def refusal(self, request, exc: actions.ServiceError) -> None:
        _refused(request, exc)


@admin.register(FieldDefinition)
class FieldDefinitionAdmin(JsonExamples, CatalogAdmin, admin.ModelAdmin):
    list_display = ["key", "label_shown", "type", "sensitivity", "profile_field"]
    list_filter = ["type", "sensitivity", "profile_field"]
    search_fields = ["key", "label"]
    json_examples = {
        "translations": [
            (
                _("The label and help text in other languages, for example:"),
                '{"zh-hans": {"label": "…", "help_text": "…"}}',
            )
        ],
        "choices": [
            (_("The choices of a choice field, for example:"), '[{"value": "…", "label": "…"}]')
        ],
        "validation": [
            (
                _("Optional rules of a text field, for example:"),
                '{"min_length": 2, "max_length": 100, "pattern": "^[0-9]+$"}',
            ),
            (_("Of a number:"), '{"minimum": 0, "maximum": 10}'),
            (_("Of a date (or not_past):"), '{"not_future": true}'),
            (_("Of a file:"), '{"max_size_mb": 5, "content_types": ["application/pdf"]}'),
        ],
    }

    @admin.display(description=_("label"), ordering="label")
    def label_shown(self, obj: FieldDefinition) -> str:
        return obj.label_translated

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    # Never deleted (ActionAdmin): versions and applications refer to keys; retire a field by
    # not asking it.

    def update(self, request, obj):
        attrs = {name: getattr(obj, name) for name in actions.FIELD_ATTRS}
        saved = actions.field_definition_save(actor=request.user, key=obj.key, **attrs)
        obj.pk = saved.pk

    create = update


class VersionInline(admin.TabularInline):
    model = ServiceVersion
    fields = ["number", "status", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Service)
class ServiceAdmin(NamedActionAdmin, CatalogAdmin, admin.ModelAdmin):
    list_display = ["name_shown", "slug", "kind", "active"]
    search_fields = ["name", "slug", "keywords"]
    inlines = [VersionInline]

    def update(self, request, obj):
        actions.service_update(
            actor=request.user,
            service=Service.objects.get(pk=obj.pk),
            **{name: getattr(obj, name) for name in actions.SERVICE_ATTRS},
        )

    def create(self, request, obj):
        created = actions.service_create(
            actor=request.user,
            slug=obj.slug,
            **{name: getattr(obj, name) for name in actions.SERVICE_ATTRS if name != "active"},
        )
        obj.pk = created.pk


def _draft(request, version: ServiceVersion) -> ServiceVersion:
    """A new draft of `version`'s service with its fields and workflow."""
    return actions.service_version_draft(
        actor=request.user,
        service=version.service,
        fields=version.fields,
        workflow=version.workflow,
    )


class ServiceVersionForm(forms.ModelForm):
    class Meta:
        model = ServiceVersion
        fields = ["service", "fields", "workflow"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        problems = validate_version(
            fields=data.get("fields"),
            workflow=data.get("workflow"),
            dictionary=dictionary(),
            departments=set(Department.objects.filter(active=True).values_list("slug", flat=True)),
        )
        if problems:
            raise ValidationError({k: [ValidationError(m) for m in v] for k, v in problems.items()})
        return data


@admin.register(ServiceVersion)
class ServiceVersionAdmin(CatalogAdmin, admin.ModelAdmin):
    form = ServiceVersionForm
    list_display = ["service", "number", "status", "published_at"]
    list_filter = ["status", "service"]
    actions = ["publish", "new_draft"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["number", "status", "published_at"]
        if not obj.is_editable:
            return ["service", "number", "status", "fields", "workflow", "published_at"]
        return ["service", "number", "status", "published_at"]

    def update(self, request, obj):
        actions.service_version_update(
            actor=request.user, version=obj, fields=obj.fields, workflow=obj.workflow
        )

    def create(self, request, obj):
        obj.pk = _draft(request, obj).pk

    @admin.action(description=_("Publish the selected drafts"))
    def publish(self, request, queryset):
        for version in queryset:
            try:
                actions.service_version_publish(actor=request.user, version=version)
                messages.success(request, _("Published %(v)s.") % {"v": version})
            except actions.ServiceError as exc:
                _refused(request, exc)

    @admin.action(description=_("Create a new draft from the selected versions"))
    def new_draft(self, request, queryset):
        for version in queryset.select_related("service"):
            draft = _draft(request, version)
            messages.success(request, _("Draft %(v)s is ready to edit.") % {"v": draft})


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Status only: answers are personal data and are read through the audited workbench."""

    list_display = ["reference", "status", "created_at", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["reference"]
    fields = ["reference", "status", "created_at", "submitted_at", "withdrawn_at"]
    readonly_fields = fields
