from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import ReadOnlyAdmin
from core.roles import Role

from .constants import event_name
from .models import AuditEvent, AuditIncident
from .purposes import purpose_of


def role_name(role: str) -> str:
    """The actor's role in the reader's language ("system" for events no person caused)."""
    if role == "system":
        return _("System")
    try:
        return str(Role(role).label)
    except ValueError:
        return role


def source_name(source: str) -> str:
    """Where the event came from (core.context: web, api, worker, command, system)."""
    names = {
        "web": _("Website"),
        "api": _("API"),
        "worker": _("Background worker"),
        "command": _("Management command"),
        "system": _("System"),
    }
    return names.get(source, source)


class ActorRoleFilter(admin.SimpleListFilter):
    title = gettext_lazy("actor role")
    parameter_name = "actor_role"

    def lookups(self, request, model_admin):
        roles = model_admin.get_queryset(request).values_list("actor_role", flat=True)
        return [(r, role_name(r)) for r in sorted(set(roles)) if r]

    def queryset(self, request, queryset):
        return queryset.filter(actor_role=self.value()) if self.value() else queryset


class ActionFilter(admin.SimpleListFilter):
    title = gettext_lazy("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        actions = model_admin.get_queryset(request).values_list("action", flat=True)
        return sorted(((a, event_name(a)) for a in set(actions)), key=lambda c: c[1])

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: the audit log is never edited, not even by administrators."""

    list_display = [
        "id",
        "occurred_at",
        "action_shown",
        "actor",
        "actor_role_shown",
        "target_type",
        "target_ref",
    ]
    list_filter = [ActionFilter, ActorRoleFilter]
    search_fields = ["target_ref", "request_id"]
    # The purpose is shown opened (its stored form is a sealed token), never as ciphertext; the
    # action and the role by their names in the reader's language, next to the stored code.
    readonly_fields = [
        "action_shown" if f.name == "action" else f.name
        for f in AuditEvent._meta.fields
        if f.name not in ("purpose", "actor_role", "source")
    ] + ["actor_role_shown", "source_shown", "purpose_shown"]
    exclude = ["purpose", "action", "actor_role", "source"]

    @admin.display(description=gettext_lazy("action"), ordering="action")
    def action_shown(self, obj: AuditEvent) -> str:
        return f"{event_name(obj.action)} ({obj.action})"

    @admin.display(description=gettext_lazy("actor role"), ordering="actor_role")
    def actor_role_shown(self, obj: AuditEvent) -> str:
        return role_name(obj.actor_role)

    @admin.display(description=gettext_lazy("source"), ordering="source")
    def source_shown(self, obj: AuditEvent) -> str:
        return source_name(obj.source)

    @admin.display(description=gettext_lazy("purpose"))
    def purpose_shown(self, obj: AuditEvent) -> str:
        opened = purpose_of(obj)
        return _("erased") if opened.erased else opened.text


@admin.register(AuditIncident)
class AuditIncidentAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """What the sealer refused or found wrong (read-only: evidence, not a to-do list)."""

    list_display = ["id", "detected_at", "kind", "event_id", "detail"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in AuditIncident._meta.fields]
