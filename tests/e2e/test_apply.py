"""Browser journey (phone, no JavaScript): catalog → multi-page form with a saved draft and an
attachment → check answers → submit → confirmation → back to "My applications"."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

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


def test_citizen_applies_for_a_birth_with_a_draft_and_an_attachment(
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

    # Page 1: about you, prefilled from the profile.
    page.get_by_role("heading", name="About you").wait_for()
    assert page.get_by_text("Step 1 of").is_visible()
    assert page.get_by_label("Your full name").input_value() == "Wang Fang"
    assert page.get_by_label("Your mobile phone number").input_value() == "13912345678"
    page.get_by_label("Your national ID number").fill("11010519491231002")  # 17 characters: wrong
    page.get_by_label("Your date of birth").fill("1991-03-04")
    page.get_by_label("Your current address").fill("北京市东城区景山前街4号")
    _continue(page)
    assert "Enter a valid 18-character national ID" in page.get_by_role("alert").inner_text()
    page.get_by_label("Your national ID number").fill("11010519491231002X")
    _continue(page)

    # Page 2: the other parent. Save a draft and leave.
    page.get_by_role("heading", name="The other parent").wait_for()
    page.get_by_label("The other parent's full name").fill("Li Qiang")
    page.get_by_role("button", name="Save and come back later").click()
    assert page.get_by_text("Your answers are saved").is_visible()

    # Back from "My applications": the draft is there and continues where the answers are.
    application = Application.objects.get(citizen=citizen)
    page.get_by_role("link", name=application.reference).click()
    page.get_by_role("link", name="Continue your application").click()
    page.get_by_role("heading", name="About you").wait_for()
    assert page.get_by_label("Your national ID number").input_value() == "11010519491231002X"
    _continue(page)
    assert page.get_by_label("The other parent's full name").input_value() == "Li Qiang"
    page.get_by_label("The other parent's national ID number").fill(OTHER_PARENT_ID)
    _continue(page)

    # Page 3: the child.
    page.get_by_role("heading", name="The child").wait_for()
    page.get_by_label("The child's full name").fill("Wang Xiaohong")
    page.get_by_label("The child's date of birth").fill("2026-10-01")
    page.get_by_label("Female").check()
    _continue(page)

    # Page 4: the birth, with the certificate; claiming the allowance adds a page.
    page.get_by_role("heading", name="The birth").wait_for()
    page.get_by_label("Hospital or place of birth").fill("Peking Union Medical College Hospital")
    page.get_by_label("Medical birth certificate").set_input_files(str(certificate))
    page.get_by_label("Yes").check()
    _continue(page)
    page.get_by_role("heading", name="Bank details").wait_for()
    page.get_by_label("Bank account number for payments").fill("6222020200112233445")
    _continue(page)

    # Check your answers, then submit.
    page.get_by_role("heading", name="Check your answers before you submit").wait_for()
    body = page.locator("main").inner_text()
    assert "certificate.pdf" in body and "Wang Xiaohong" in body and "Female" in body
    page.get_by_role("button", name="Submit application").click()

    page.get_by_role("heading", name="Application submitted").wait_for()
    assert page.locator(".reference").inner_text() == application.reference
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.attachments.count() == 1

    # Back to "My applications".
    page.get_by_role("link", name="All your applications").click()
    item = page.locator(".app-item", has_text=application.reference)
    assert "Submitted" in item.inner_text()


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
