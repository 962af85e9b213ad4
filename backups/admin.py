"""Backups in the admin: the runs (read only) and the incidents a failed run opened, which an
administrator marks resolved once the cause is fixed."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import actions
from .models import BackupIncident, BackupRun


@admin.register(BackupRun)
class BackupRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "kind", "ok", "archive", "finished_at"]
    list_filter = ["kind", "ok"]
    readonly_fields = ["kind", "archive", "started_at", "finished_at", "ok", "report"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BackupIncident)
class BackupIncidentAdmin(admin.ModelAdmin):
    list_display = ["created_at", "run", "resolved_at"]
    list_filter = ["resolved_at"]
    readonly_fields = ["run", "error", "created_at", "resolved_at"]
    actions = ["resolve"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark the selected incidents resolved"))
    def resolve(self, request, queryset):
        for incident in queryset.filter(resolved_at__isnull=True):
            actions.backup_incident_resolve(incident=incident, actor=request.user)
        messages.success(request, _("Incidents marked resolved."))
