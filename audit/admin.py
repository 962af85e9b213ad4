from django.contrib import admin

from .models import AuditEvent, AuditIncident


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is never edited, not even by administrators."""

    list_display = [
        "id",
        "occurred_at",
        "action",
        "actor",
        "actor_role",
        "target_type",
        "target_ref",
    ]
    list_filter = ["action", "actor_role"]
    search_fields = ["target_ref", "request_id"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditIncident)
class AuditIncidentAdmin(admin.ModelAdmin):
    """What the sealer refused or found wrong (read-only: evidence, not a to-do list)."""

    list_display = ["id", "detected_at", "kind", "event_id", "detail"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in AuditIncident._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
