from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and departments")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (sign-in/out audit events)
