"""A department asks, the citizen answers on the same application (page and API); the case goes
back to the clerk. Refusals: another citizen, no open question, answers the department does
not see, empty replies."""

import pytest

from audit.models import AuditEvent
from services.actions import application_answers
from services.models import Application
from tests.factories import UserFactory, api_for, case_and_clerk
from workflows import actions, routing
from workflows.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(demo):
    case, clerk = case_and_clerk()
    application = case.application
    actions.case_request_info(
        case=case, actor=clerk, message="Please confirm the date of your move."
    )
    routing.advance(application_id=application.pk)
    return application, case


def test_the_question_shows_in_the_api_and_on_the_page(asked, client):
    application, case = asked
    body = api_for(application.citizen).get(f"/api/v1/applications/{application.reference}/").json()
    assert body["status"] == "action_required"
    assert body["information_requests"] == [
        {
            "case": case.reference,
            "department": "tax",
            "department_name": "Tax Bureau",
            "message": "Please confirm the date of your move.",
            "asked_at": body["information_requests"][0]["asked_at"],
            "fields": case.fields,
        }
    ]
    client.force_login(application.citizen)
    page = client.get(f"/applications/{application.reference}/").content.decode()
    assert "Tax Bureau needs something from you" in page and "Send your answer" in page


def test_reply_through_the_api_with_a_corrected_answer(asked):
    application, case = asked
    response = api_for(application.citizen).post(
        f"/api/v1/applications/{application.reference}/reply/",
        {
            "case": case.reference,
            "message": "It was the 2nd.",
            "answers": {"move.date": "2026-11-02"},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert Case.objects.get(pk=case.pk).status == "in_progress"  # back to the clerk who asked
    assert response.json()["information_requests"] == []
    assert (
        application_answers(Application.objects.get(pk=application.pk))["move.date"] == "2026-11-02"
    )
    event = AuditEvent.objects.get(action="case.citizen_reply")
    assert event.details["fields"] == ["move.date"] and "2026-11-02" not in str(event.details)


def test_reply_on_the_page(asked, client):
    application, case = asked
    client.force_login(application.citizen)
    response = client.post(
        f"/applications/{application.reference}/cases/{case.reference}/reply/",
        {"message": "Yes, the 1st."},
    )
    assert response.status_code == 302
    request = case.information_requests.get()
    assert request.reply_plain == "Yes, the 1st." and request.replied_at
    assert Case.objects.get(pk=case.pk).status == "in_progress"  # back to the clerk who asked


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"message": "", "answers": {}}, "message"),
        ({"message": "x", "answers": {"school.grade": "primary-1"}}, "school.grade"),
        ({"message": "x", "answers": {"move.date": "not a date"}}, "move.date"),
    ],
)
def test_bad_replies_are_refused_and_change_nothing(asked, payload, field):
    application, case = asked
    response = api_for(application.citizen).post(
        f"/api/v1/applications/{application.reference}/reply/",
        {"case": case.reference, **payload},
        format="json",
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Case.objects.get(pk=case.pk).status == "awaiting_citizen"
    assert (
        application_answers(Application.objects.get(pk=application.pk))["move.date"] == "2026-11-01"
    )


def test_another_citizen_gets_a_404(asked, client):
    application, case = asked
    other = UserFactory()
    response = api_for(other).post(
        f"/api/v1/applications/{application.reference}/reply/",
        {"case": case.reference, "message": "x"},
        format="json",
    )
    assert response.status_code == 404
    client.force_login(other)
    page = client.post(
        f"/applications/{application.reference}/cases/{case.reference}/reply/", {"message": "x"}
    )
    assert page.status_code == 404


def test_replying_when_nothing_was_asked_is_a_409(asked):
    application, _case = asked
    household = application.cases.get(step="household")
    response = api_for(application.citizen).post(
        f"/api/v1/applications/{application.reference}/reply/",
        {"case": household.reference, "message": "unprompted"},
        format="json",
    )
    assert response.status_code == 409
    assert set(response.json()) == {"detail"}
