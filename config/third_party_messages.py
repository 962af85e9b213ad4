"""Messages of Django's own apps whose Simplified Chinese catalogs (Django 5.2) lack them.

Nothing imports this module: makemessages reads it, so these msgids are in the project's
catalog, whose translations take precedence over the packages' own (LOCALE_PATHS comes first in
Django's lookup). A message of Django, DRF or django-allauth that reads badly in Chinese is
corrected the same way: its exact msgid here, its better translation in the catalog
(docs/translation.md, "Django's and the packages' own strings")."""

from django.utils.translation import gettext_noop, ngettext_lazy

MESSAGES = [
    # django.contrib.auth's password validator (the sign-up and password forms).
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
    ),
    # django.db: a reference to a row that does not exist.
    gettext_noop("%(model)s instance with %(field)s %(value)r is not a valid choice."),
    # The admin site.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop(
        "After you’ve created a user, you’ll be able to edit more user options."  # noqa: RUF001
    ),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),  # noqa: RUF001
    # django-allauth: the type of a two-factor authenticator (a security key or passkey).
    gettext_noop("WebAuthn"),
]
