from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo departments, accounts and catalog (`seed_demo`, `demo_totp`). Installed by the
    development, test and benchmark settings only: production ships none of it."""

    name = "demo"
    verbose_name = _("Demo data")
