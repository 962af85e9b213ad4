"""Plain helpers of the browser journeys: a fresh page, and signing in through the forms as a
person does (the demo data of a journey comes from the `routed_moving_journey` fixture)."""

from __future__ import annotations

from tests.factories import PASSWORD, TOTP_SECRET
from tests.support import totp_code


def new_page(browser, base_url: str, **options):
    """A new browser context without JavaScript (every journey must work without it) and its
    page: (context, page); the caller closes the context."""
    context = browser.new_context(base_url=base_url, java_script_enabled=False, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def sign_in(page, email: str, *, staff: bool = True) -> None:
    """Sign in with the demo password, and for staff the TOTP code of the demo secret."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if staff:
        page.get_by_label("Code").fill(totp_code(TOTP_SECRET, valid_for=10))
        page.get_by_role("button", name="Sign In").click()
