"""Browser journey: a clerk shares a case with another department for an opinion, choosing the
fields; the consultee finds it in their "consulted" list, sees only those fields and adds an
opinion; the clerk reads it on the timeline and approves; the citizen sees on "who looked at my
data" that the case was shared, with whom and why."""

import pytest

from tests.e2e.journeys import new_page, sign_in
from workflows.models import Case, Consultation

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Is the new address registered as business premises?"
MARKET = "Market Regulation Administration"


def test_a_clerk_consults_another_department_then_decides(
    browser, live_server, routed_moving_journey
):
    application = routed_moving_journey
    citizen = application.citizen
    case = application.cases.get(step="household")

    def context():
        return new_page(browser, live_server.url)

    clerk_ctx, clerk = context()
    sign_in(clerk, "clerk.household-registration@demo.gov")
    clerk.goto(f"/workbench/cases/{case.reference}/")
    clerk.get_by_label("Department to consult").select_option(label=MARKET)
    clerk.get_by_label("Why do you share this case?").fill(REASON)
    sharing = clerk.locator("fieldset", has_text="Fields they may see")
    sharing.locator("input[value='applicant.national_id']").check()
    sharing.locator("input[value='move.new_address']").check()
    clerk.get_by_role("button", name="Share", exact=True).click()
    assert "The case was shared." in clerk.locator("main").inner_text()
    consultation = Consultation.objects.get()
    assert consultation.fields == ["applicant.national_id", "move.new_address"]

    consultee_ctx, consultee = context()
    sign_in(consultee, "clerk.market-regulation@demo.gov")
    consultee.goto("/workbench/")
    consultee.get_by_role("link", name="Consulted: cases other departments shared with you").click()
    assert REASON in consultee.locator("main").inner_text()
    consultee.get_by_role("link", name=case.reference).click()
    shown = consultee.locator("main").inner_text()
    assert "Approve" not in shown and "Internal note" not in shown
    answers = consultee.locator("section[aria-labelledby=answers-title] dt")
    assert answers.count() == 2  # only the two fields shared
    consultee.get_by_role("textbox", name="Your opinion").fill(
        "No business is registered at that address."
    )
    consultee.get_by_role("button", name="Add opinion").click()
    assert "Your opinion was added." in consultee.locator("main").inner_text()

    clerk.reload()
    assert "No business is registered at that address." in clerk.locator("main").inner_text()
    clerk.get_by_role("button", name="Claim this case").click()
    clerk.get_by_role("button", name="Approve").click()
    assert Case.objects.get(pk=case.pk).status == "approved"

    citizen_ctx, me = context()
    sign_in(me, citizen.email, staff=False)
    me.goto("/me/data-access/")
    seen = me.locator("main").inner_text()
    assert f"Shared with: {MARKET}" in seen
    assert REASON in seen
    for ctx in (clerk_ctx, consultee_ctx, citizen_ctx):
        ctx.close()
