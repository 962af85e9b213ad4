from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Department systems")

    def ready(self) -> None:
        # The engine knows nothing of webhooks; the outbox plugs itself into it here.
        from . import hooks

        hooks.connect()
