from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and departments")

    def ready(self) -> None:
        from allauth.mfa.models import Authenticator

        from privacy import rotation

        from . import receivers  # noqa: F401  (sign-in/out audit events)
        from .actions import authenticators_secure_batch
        from .third_party import name_authenticators, name_guardian

        name_authenticators()
        name_guardian()

        rotation.register(
            "mfa_authenticator",
            Authenticator,
            authenticators_secure_batch,
            label="two-factor authenticators",
        )
