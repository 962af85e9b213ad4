from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Protection of personal data at rest: the keyring, sealing and unsealing bound to a row,
    blind indexes, and the machinery that re-seals everything under a new key. Knows no model
    of the other apps: each registers its sealed columns (`privacy.rotation`)."""

    name = "privacy"
    verbose_name = _("Personal data protection")
