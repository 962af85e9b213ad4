"""Messages of Django's own apps and of django-allauth whose Simplified Chinese catalogs lack
them or read badly.

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
    # django-allauth: its Chinese says "Email" and "token" in English; the portal's words.
    gettext_noop("The password reset token was invalid."),
    gettext_noop("Use authenticator app or code"),
    gettext_noop("Username or email"),
    gettext_noop(
        "You cannot activate two-factor authentication until you have verified your email address."
    ),
    gettext_noop("TOTP Authenticator"),
    gettext_noop(
        "An account already exists with this email address. Please sign in to that account "
        "first, then connect your %s account."
    ),
    gettext_noop("Your account has no verified email address."),
    gettext_noop("Email Addresses"),
    gettext_noop("The following email addresses are associated with your account:"),
    gettext_noop("Primary"),
    gettext_noop("Re-send Verification"),
    gettext_noop("Add Email Address"),
    gettext_noop("Add Email"),
    gettext_noop("Do you really want to remove the selected email address?"),
    gettext_noop("Hello from %(site_name)s!"),
    gettext_noop("Email Changed"),
    gettext_noop("Your email has been confirmed."),
    gettext_noop("Email Confirmation"),
    gettext_noop("Please Confirm Your Email Address"),
    gettext_noop("Email address %(deleted_email)s has been removed from your account."),
    gettext_noop("Email Removed"),
    gettext_noop("Email Address"),
    gettext_noop("Current email"),
    gettext_noop("Change Email"),
    gettext_noop("Confirm Email Address"),
    gettext_noop("You cannot remove your primary email address (%(email)s)."),
    gettext_noop("You have confirmed %(email)s."),
    gettext_noop("Removed email address %(email)s."),
    gettext_noop("Primary email address set."),
    gettext_noop("Bad Token"),
    gettext_noop("Verify Your Email Address"),
    gettext_noop("IP Address"),
    # django-allauth: the type of a two-factor authenticator (a security key or passkey).
    gettext_noop("WebAuthn"),
]
