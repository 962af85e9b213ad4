from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from privacy import rotation

        from .models import DataKey
        from .purposes import data_keys_rotate_batch, record_rotation

        rotation.on_rotated(record_rotation)
        rotation.register(
            "data_key", DataKey, data_keys_rotate_batch, label="audit purpose data keys"
        )
