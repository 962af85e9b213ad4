from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import routing
from .models import Incident, WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["queue", "hostname", "pid", "seen_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Routing that failed after its retries; "retry" asks the engine to route again."""

    list_display = ["created_at", "application", "task", "attempts", "resolved_at"]
    list_filter = ["resolved_at"]
    readonly_fields = [
        "application",
        "task",
        "error",
        "traceback",
        "attempts",
        "created_at",
        "resolved_at",
    ]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry routing of the selected incidents"))
    def retry(self, request, queryset):
        for incident in queryset.filter(resolved_at__isnull=True):
            routing.incident_retry(incident=incident, actor=request.user)
        messages.success(
            request, _("Routing requested again; the sweeper or a worker will run it.")
        )
