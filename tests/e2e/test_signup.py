"""Browser journey: a citizen signs up on a phone, verifies the email and lands home."""

import re

import pytest
from django.core import mail

from accounts.models import User
from audit.models import AuditEvent

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_citizen_signs_up_verifies_email_and_lands_home(phone_page, live_server):
    page = phone_page
    page.goto("/")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Email").fill("new.citizen@example.org")
    page.get_by_label("Password", exact=True).fill("a-long-enough-passphrase")
    page.get_by_label("Password (again)").fill("a-long-enough-passphrase")
    page.get_by_role("button", name="Sign Up").click()
    page.get_by_role("heading", name="Verify Your Email Address").wait_for()

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.citizen@example.org"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    assert link.startswith(live_server.url)

    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()
    assert page.get_by_text("You have no applications yet.").is_visible()
    assert page.locator(".role-badge").inner_text() == "Citizen"

    user = User.objects.get(email="new.citizen@example.org")
    assert user.emailaddress_set.get().verified
    actions = list(AuditEvent.objects.filter(actor=user).values_list("action", flat=True))
    assert actions[:2] == ["account.signup", "account.email_verified"]
    assert "account.login" in actions


def test_signup_with_mismatched_passwords_shows_the_error_and_creates_nothing(phone_page):
    page = phone_page
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("someone@example.org")
    page.get_by_label("Password", exact=True).fill("a-long-enough-passphrase")
    page.get_by_label("Password (again)").fill("a-different-passphrase")
    page.get_by_role("button", name="Sign Up").click()
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    assert not User.objects.filter(email="someone@example.org").exists()
