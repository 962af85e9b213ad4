import os

from django.apps import AppConfig


class BaselineConfig(AppConfig):
    name = "bench.baseline"
    label = "bench_baseline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The audit benchmark's "unaudited" server: everything a request does, except that
        # audit events are built but not inserted. Bench settings only; never in the portal.
        if os.environ.get("BENCH_UNAUDITED") == "1":
            from audit.models import AuditEvent

            AuditEvent.save = lambda self, *args, **kwargs: None
            AuditEvent.objects.bulk_create = lambda events, *args, **kwargs: list(events)
