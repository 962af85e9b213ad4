from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import ReadOnlyAdmin

from .models import AuditEvent, AuditIncident
from .purposes import purpose_of


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
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
    # The purpose is shown opened (its stored form is a sealed token), never as ciphertext.
    readonly_fields = [f.name for f in AuditEvent._meta.fields if f.name != "purpose"] + [
        "purpose_shown"
    ]
    exclude = ["purpose"]

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
