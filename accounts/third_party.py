"""Names of third-party models (django-allauth's two-factor authenticators, django-guardian's
object permissions) in the reader's language.

allauth declares `Authenticator` without `verbose_name`s, and guardian names its app and models
in English only, so the admin would show names as Django derives them from the code
("Authenticators", "last used at", "Guardian", "user object permission") whatever the language.
These functions give them translatable names (the portal's catalog translates them). They set
only the names shown to people (`verbose_name`), not the options migrations record
(`Options.original_attrs`, a field's `_verbose_name`), so the packages' apps keep no pending
migration.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def name_guardian() -> None:
    """django-guardian's app and its generic object-permission models, named the same way."""
    from django.apps import apps

    config = apps.get_app_config("guardian")
    config.verbose_name = _("Object permissions")
    for model, name, plural in (
        (
            "UserObjectPermission",
            _("object permission of a user"),
            _("object permissions of users"),
        ),
        (
            "GroupObjectPermission",
            _("object permission of a group"),
            _("object permissions of groups"),
        ),
    ):
        meta = config.get_model(model)._meta
        meta.verbose_name, meta.verbose_name_plural = name, plural


def name_authenticators() -> None:
    from allauth.mfa.models import Authenticator

    meta = Authenticator._meta
    meta.verbose_name = pgettext_lazy("two-factor", "authenticator")
    meta.verbose_name_plural = pgettext_lazy("two-factor", "authenticators")
    names = {
        "user": _("user"),
        "type": _("type"),
        "data": _("data"),
        "created_at": _("created"),
        "last_used_at": _("last used"),
    }
    for name, verbose_name in names.items():
        meta.get_field(name).verbose_name = verbose_name
