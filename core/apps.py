from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every other app stands on: request context, structured logging, middleware, the API's
    error format and pagination, limits and throttling. Imports no other app of the portal."""

    name = "core"
    verbose_name = _("Core")
