"""Browser journey (phone, no JavaScript): catalog → the task list of a long application, its
sections with a saved draft and an attachment → check answers, "Change" and back → submit →
confirmation → the submitted answers → back to "My applications"; and the error summary
(focused, linked to its field) with JavaScript."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from services import actions
from services.models import Application
from services.selectors import versions_published_for
from services.validators import make_national_id
from tests.data import LI_WEI_MOVING_OF_TWO
from tests.factories import PASSWORD, UserFactory

OTHER_PARENT_ID = make_national_id("110105", dt.date(1988, 2, 29), "123")

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def _continue(page):
    page.get_by_role("button", name="Save and continue").click()


def _completed(page):
    page.get_by_label("Yes, I have completed this section").check()
    _continue(page)


def _status(page, section):
    return page.locator(f"#status-{section}").inner_text()


def test_citizen_applies_for_a_birth_from_the_task_list_with_a_draft_and_an_attachment(
    phone_page, tmp_path, monkeypatch
):
    from workflows.tasks import route_application

    # No wake-up call: a Celery worker started by other tests in this process would route the
    # application before the page's status is checked.
    monkeypatch.setattr(route_application, "delay", lambda *args, **kwargs: None)
    call_command("seed_demo", stdout=StringIO())  # departments and catalog
    citizen = UserFactory(email="mother@example.org")
    actions.profile_update(
        user=citizen, facts={"applicant.full_name": "Wang Fang", "applicant.phone": "13912345678"}
    )
    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(b"%PDF-1.4\n% a scanned birth certificate\n%%EOF\n")
    page = phone_page

    _sign_in(page, citizen.email)
    page.get_by_role("link", name="Start a new application").click()
    page.get_by_label("Birth of a child").check()
    page.get_by_role("button", name="Start application").click()

    # A long application starts at its task list; the bank details wait for the birth page.
    page.get_by_role("heading", name="Your application").wait_for()
    assert "You have completed 0 of 5 sections." in page.locator("main").inner_text()
    assert _status(page, "applicant") == "In progress"  # prefilled from the profile
    assert _status(page, "bank") == "Cannot start yet"
    assert _status(page, "review") == "Cannot start yet"
    assert page.get_by_role("link", name="Check your answers and submit").count() == 0

    # About you: a wrong ID number is refused with what is wrong, summarised first.
    page.get_by_role("link", name="About you").click()
    page.get_by_role("heading", name="About you").wait_for()
    assert page.get_by_text("Step 1 of 5").is_visible()
    assert page.get_by_label("Your full name").input_value() == "Wang Fang"
    assert page.get_by_label("Your mobile phone number").input_value() == "13912345678"
    page.get_by_label("Your national ID number").fill("11010519491231002")  # 17 characters
    page.get_by_label("Your date of birth").fill("1991-03-04")
    page.get_by_label("Your current address").fill("北京市东城区景山前街4号")
    _completed(page)
    summary = page.get_by_role("alert")
    summary.wait_for()
    assert page.title().startswith("Error: About you")
    assert "There is a problem" in summary.inner_text()
    assert "The ID number is too short: it has 17 characters; it needs 18." in summary.inner_text()
    link = summary.get_by_role("link")
    assert link.get_attribute("href") == "#id_applicant__national_id"
    page.get_by_label("Your national ID number").fill("11010519491231002X")
    page.get_by_label("Yes, I have completed this section").check()
    _continue(page)
    page.get_by_role("heading", name="Your application").wait_for()
    assert _status(page, "applicant") == "Completed"

    # The other parent: save a draft and leave.
    page.get_by_role("link", name="The other parent").click()
    page.get_by_label("The other parent's full name").fill("Li Qiang")
    page.get_by_role("button", name="Save and come back later").click()
    page.get_by_text("Your answers are saved").wait_for()

    # Back from "My applications": the draft resumes at the task list.
    application = Application.objects.get(citizen=citizen)
    page.get_by_role("link", name=application.reference).click()
    page.get_by_role("link", name="Continue your application").click()
    page.get_by_role("heading", name="Your application").wait_for()
    assert _status(page, "parent") == "In progress"
    page.get_by_role("link", name="The other parent").click()
    assert page.get_by_label("The other parent's full name").input_value() == "Li Qiang"
    page.get_by_label("The other parent's national ID number").fill(OTHER_PARENT_ID)
    _completed(page)

    # The child.
    page.get_by_role("link", name="The child").click()
    page.get_by_label("The child's full name").fill("Wang Xiaohong")
    page.get_by_label("The child's date of birth").fill("2026-10-01")
    page.get_by_label("Female").check()
    _completed(page)

    # The birth, with the certificate; claiming the allowance opens the bank details.
    page.get_by_role("link", name="The birth").click()
    page.get_by_label("Hospital or place of birth").fill("Peking Union Medical College Hospital")
    page.get_by_label("Medical birth certificate").set_input_files(str(certificate))
    page.get_by_label("Yes", exact=True).check()
    _completed(page)
    page.get_by_role("heading", name="Your application").wait_for()
    assert _status(page, "bank") == "Not started"
    assert "You have completed 4 of 5 sections." in page.locator("main").inner_text()
    page.get_by_role("link", name="Bank details").click()
    page.get_by_label("Bank account number for payments").fill("6222020200112233445")
    _completed(page)

    # Check your answers; "Change" comes back here.
    assert _status(page, "review") == "Not started"
    page.get_by_role("link", name="Check your answers and submit").click()
    page.get_by_role("heading", name="Check your answers before you submit").wait_for()
    body = page.locator("main").inner_text()
    assert "certificate.pdf" in body and "Wang Xiaohong" in body and "Female" in body
    page.get_by_role("link", name="Change “The child”").click()
    page.get_by_role("heading", name="The child").wait_for()
    assert page.get_by_label("Yes, I have completed this section").count() == 0
    page.get_by_label("The child's full name").fill("Wang Xiaohua")
    _continue(page)
    page.get_by_role("heading", name="Check your answers before you submit").wait_for()
    assert "Wang Xiaohua" in page.locator("main").inner_text()
    page.get_by_role("button", name="Submit application").click()

    page.get_by_role("heading", name="Application submitted").wait_for()
    assert page.locator(".reference").inner_text() == application.reference
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.attachments.count() == 1

    # What was submitted stays readable, personal values masked.
    page.get_by_role("link", name="Read the answers you submitted").click()
    page.get_by_role("heading", name="Your answers").wait_for()
    answers = page.locator("main").inner_text()
    assert "1101**********002X" in answers and "11010519491231002X" not in answers
    assert "certificate.pdf" in answers

    # The confirmation stays reachable from the application's page.
    page.get_by_role("link", name="Back").click()
    page.get_by_role("link", name="Your confirmation and reference").click()
    assert page.locator(".reference").inner_text() == application.reference
    page.get_by_role("link", name="All your applications").click()
    item = page.locator(".app-item", has_text=application.reference)
    assert "Submitted" in item.inner_text()


def test_the_error_summary_takes_the_focus_and_links_to_the_field(browser, live_server):
    """With JavaScript (the summary's script) the focus lands on the summary; its link leads
    to the field."""
    call_command("seed_demo", stdout=StringIO())
    citizen = UserFactory(email="focus@example.org")
    application = actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["moving-house"])
    )
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        _sign_in(page, citizen.email)
        page.goto(f"/applications/{application.reference}/form/applicant/")
        page.get_by_label("Your national ID number").fill("110105194912310021")
        _continue(page)
        # A locator assertion, not `wait_for_function`: its polling evaluates a string, which
        # the portal's Content Security Policy (no 'unsafe-eval') refuses.
        expect(page.locator(".error-summary")).to_be_focused()
        assert page.title().startswith("Error: ")
        summary = page.get_by_role("alert")
        assert "The last character of the ID number does not match" in summary.inner_text()
        summary.get_by_role("link").first.click()
        page.wait_for_url("**#id_applicant__national_id")
        described = page.get_by_label("Your national ID number").get_attribute("aria-describedby")
        assert "id_applicant__national_id_error" in described
    finally:
        context.close()


def test_confirmation_email_is_sent_after_submit():
    """The email goes through the notifications task (run in-process here; the worker test proves
    the broker path)."""
    from services.notifications import application_submitted

    seed = UserFactory()
    call_command("seed_demo", stdout=StringIO())
    version = versions_published_for(slugs=["moving-house"])
    application = actions.application_create(
        citizen=seed, versions=version, answers=dict(LI_WEI_MOVING_OF_TWO)
    )
    actions.application_submit(application=application, actor=seed)
    application_submitted(application_id=application.pk)
    assert mail.outbox[-1].to == [seed.email]
    assert application.reference in mail.outbox[-1].subject
    assert re.search(rf"/applications/{application.reference}/", mail.outbox[-1].body)
