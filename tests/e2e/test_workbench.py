"""Browser journey: a clerk signs in with TOTP, searches by national ID, opens a case, reveals a
masked field with a purpose, asks the citizen; the citizen answers in their own session; the clerk
approves; the citizen sees that department's part approved."""

import pytest

from audit.models import AuditEvent
from audit.purposes import purpose_of
from tests.e2e.journeys import new_page, sign_in
from workflows import routing
from workflows.models import Case

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_and_citizen_work_a_case_together(browser, live_server, routed_moving_journey):
    application = routed_moving_journey
    citizen = application.citizen
    case = application.cases.get(step="tax")

    def context():
        return new_page(browser, live_server.url, viewport={"width": 390, "height": 844})

    clerk_ctx, clerk = context()
    sign_in(clerk, "clerk.tax@demo.gov")
    clerk.locator("nav.site-nav summary").click()  # on a phone the links are behind "Menu"
    clerk.get_by_role("link", name="Workbench").first.click()
    clerk.get_by_label("National ID", exact=True).fill("11010519491231002X")
    clerk.get_by_role("button", name="Search by national ID").click()
    assert "11010519491231002X" not in clerk.url  # searched by POST, not from the address
    clerk.get_by_role("link", name=case.reference).click()
    assert "1101**********002X" in clerk.locator("main").inner_text()

    # The reveal form's box (the sharing form below lists the same fields).
    reveal = clerk.locator("form", has=clerk.get_by_role("button", name="Reveal ticked values"))
    reveal.get_by_label("Applicant's national ID number").check()  # the staff label
    clerk.get_by_label("Why do you need to see the ticked values?").fill("Matching the tax record")
    clerk.get_by_role("button", name="Reveal ticked values").click()
    assert (
        clerk.locator("mark[data-revealed='applicant.national_id']").inner_text()
        == "11010519491231002X"
    )
    reveal = AuditEvent.objects.get(action="pii.reveal")
    assert purpose_of(reveal).text == "Matching the tax record"  # stored sealed

    clerk.get_by_label("Question for the citizen").fill("Please confirm the date of your move.")
    clerk.get_by_role("button", name="Ask the citizen").click()
    assert Case.objects.get(pk=case.pk).status == "awaiting_citizen"

    citizen_ctx, me = context()
    sign_in(me, citizen.email, staff=False)
    routing.advance(application_id=application.pk)  # what the worker does after the decision
    me.get_by_role("link", name=application.reference).click()
    me.get_by_label("Your answer").fill("It was the 1st of November.")
    me.get_by_role("button", name="Send your answer").click()
    assert "Your answer was sent" in me.locator("main").inner_text()

    routing.advance(application_id=application.pk)
    clerk.reload()
    assert "It was the 1st of November." in clerk.locator("main").inner_text()
    clerk.get_by_role("button", name="Approve").click()
    assert Case.objects.get(pk=case.pk).status == "approved"

    routing.advance(application_id=application.pk)
    me.reload()
    part = me.locator(".case-item", has_text="Tax Bureau")
    assert "Approved" in part.inner_text()
    clerk_ctx.close()
    citizen_ctx.close()
