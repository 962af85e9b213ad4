from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceiptsConfig(AppConfig):
    name = "receipts"
    verbose_name = _("Receipts and letters")

    def ready(self) -> None:
        from . import checks, hooks  # noqa: F401 (checks registers itself)

        hooks.connect()
