from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows and cases")

    def ready(self) -> None:
        # The layers below know nothing of the engine; it plugs itself into them here.
        from . import hooks

        hooks.connect()
