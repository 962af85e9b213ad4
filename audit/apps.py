from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from core import guards
        from privacy import rotation

        from . import guards as audit_guards
        from .models import DataKey
        from .purposes import data_keys_rotate_batch, record_rotation

        guards.register(audit_guards.GUARD)
        rotation.on_rotated(record_rotation)
        rotation.register(
            "data_key", DataKey, data_keys_rotate_batch, label="audit purpose data keys"
        )
