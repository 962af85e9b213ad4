"""The citizen's journeys at GOV.UK quality: the task list of a long application (statuses,
"Have you completed this section?", a draft resuming at the task list), "Change" returning to
check answers (only `?return=review`), the confirmation and the submitted answers kept after
submission (the owner only, personal values masked), confirmation pages for withdrawing and
erasing, and error pages titled "Error: " with a summary linked to the fields."""

import re

import pytest

from audit.models import AuditEvent
from services import actions
from services.models import Application
from services.selectors import versions_published_for
from tests.data import MOVING
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

APPLICANT_PAGE = {
    "applicant__full_name": MOVING["applicant.full_name"],
    "applicant__national_id": MOVING["applicant.national_id"],
    "applicant__date_of_birth": MOVING["applicant.date_of_birth"],
    "applicant__phone": MOVING["applicant.phone"],
    "applicant__address": MOVING["applicant.address"],
}


@pytest.fixture
def moving_draft(demo):
    citizen = UserFactory()
    return actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["moving-house"])
    )


def _tasks(client, application) -> str:
    return client.get(f"/applications/{application.reference}/tasks/").content.decode()


def _status_of(body: str, section: str) -> str:
    match = re.search(rf'id="status-{section}">([^<]*)<', body)
    return match.group(1) if match else ""


def test_a_long_draft_resumes_at_the_task_list(client, moving_draft):
    client.force_login(moving_draft.citizen)
    response = client.get(f"/applications/{moving_draft.reference}/form/")
    assert response["Location"] == f"/applications/{moving_draft.reference}/tasks/"
    body = _tasks(client, moving_draft)
    assert "You have completed 0 of 5 sections." in body and "Moving house" in body
    assert _status_of(body, "applicant") == "Not started"
    assert _status_of(body, "vehicle") == "Cannot start yet"
    assert _status_of(body, "review") == "Cannot start yet"
    assert f'href="/applications/{moving_draft.reference}/review/"' not in body


def test_a_short_application_keeps_the_page_by_page_form(client, demo):
    citizen = UserFactory()
    application = actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["start-business"])
    )
    client.force_login(citizen)
    response = client.get(f"/applications/{application.reference}/form/")
    assert response["Location"] == f"/applications/{application.reference}/form/applicant/"
    tasks = client.get(f"/applications/{application.reference}/tasks/")
    assert tasks["Location"] == f"/applications/{application.reference}/form/"
    page = client.get(f"/applications/{application.reference}/form/business/").content.decode()
    assert "Step 2 of 2" in page and "Have you completed this section?" not in page
    assert f'href="/applications/{application.reference}/form/applicant/" class="back"' in page


def test_completing_a_section_needs_its_answers_and_leads_back_to_the_task_list(
    client, moving_draft
):
    client.force_login(moving_draft.citizen)
    url = f"/applications/{moving_draft.reference}/form/applicant/"
    page = client.get(url).content.decode()
    assert "Have you completed this section?" in page

    refused = client.post(
        url, {"applicant__full_name": "Li Wei", "section_completed": "yes"}
    ).content.decode()
    assert "Answer this question, or choose" in refused
    assert refused.count('class="error-message"') == 4  # ID, date of birth, phone, address
    moving_draft.refresh_from_db()
    assert moving_draft.sections_done == []
    assert "applicant.full_name" not in actions.application_answers(moving_draft)

    saved = client.post(url, {**APPLICANT_PAGE, "section_completed": "yes"})
    assert saved["Location"] == f"/applications/{moving_draft.reference}/tasks/"
    moving_draft.refresh_from_db()
    assert moving_draft.sections_done == ["applicant"]
    event = AuditEvent.objects.filter(action="application.update").order_by("-pk").first()
    assert event.details == {"fields": [], "section": "applicant", "completed": True}
    body = _tasks(client, moving_draft)
    assert _status_of(body, "applicant") == "Completed"
    assert "You have completed 1 of 5 sections." in body

    client.post(url, {**APPLICANT_PAGE, "section_completed": "no"})
    moving_draft.refresh_from_db()
    assert moving_draft.sections_done == []
    assert _status_of(_tasks(client, moving_draft), "applicant") == "In progress"


def test_the_household_decides_the_sections_that_follow_and_unlocks_check_answers(
    client, moving_draft
):
    client.force_login(moving_draft.citizen)
    ref = moving_draft.reference
    client.post(
        f"/applications/{ref}/form/applicant/", {**APPLICANT_PAGE, "section_completed": "yes"}
    )
    client.post(
        f"/applications/{ref}/form/move/",
        {"move__new_address": MOVING["move.new_address"], "move__date": MOVING["move.date"]}
        | {"section_completed": "yes"},
    )
    # The vehicle page cannot be opened before the household says there is a vehicle.
    assert client.get(f"/applications/{ref}/form/vehicle/").status_code == 404
    client.post(
        f"/applications/{ref}/form/household/",
        {
            "household__size": "2",
            "household__has_vehicle": "yes",
            "household__has_school_children": "no",
            "section_completed": "yes",
        },
    )
    body = _tasks(client, moving_draft)
    assert "You have completed 3 of 4 sections." in body  # school dropped, vehicle to do
    assert _status_of(body, "vehicle") == "Not started" and "status-school" not in body
    assert _status_of(body, "review") == "Cannot start yet"
    page = client.get(f"/applications/{ref}/form/vehicle/").content.decode()
    assert "Step 4 of 4" in page
    client.post(
        f"/applications/{ref}/form/vehicle/",
        {"vehicle__plate": "京A12345", "section_completed": "yes"},
    )
    body = _tasks(client, moving_draft)
    assert _status_of(body, "review") == "Not started"
    assert f'href="/applications/{ref}/review/"' in body


def test_change_returns_to_check_answers_and_only_that_return_is_honoured(client, moving_draft):
    client.force_login(moving_draft.citizen)
    ref = moving_draft.reference
    review = client.get(f"/applications/{ref}/review/").content.decode()
    assert f'href="/applications/{ref}/form/applicant/?return=review"' in review
    page = client.get(f"/applications/{ref}/form/applicant/?return=review").content.decode()
    assert "Have you completed this section?" not in page
    assert f'href="/applications/{ref}/review/" class="back"' in page
    back = client.post(f"/applications/{ref}/form/applicant/?return=review", APPLICANT_PAGE)
    assert back["Location"] == f"/applications/{ref}/review/"
    # Anything else is ignored: the page leads where it always does, never off the portal.
    for other in ("https://evil.example/", "//evil.example", "/admin/", "REVIEW"):
        response = client.post(
            f"/applications/{ref}/form/applicant/", APPLICANT_PAGE, QUERY_STRING=f"return={other}"
        )
        assert response["Location"] == f"/applications/{ref}/tasks/", other


def test_after_submission_the_confirmation_and_the_answers_stay_readable(client, demo):
    application = ApplicationFactory(submitted=True)
    owner, ref = application.citizen, application.reference
    client.force_login(owner)
    detail = client.get(f"/applications/{ref}/").content.decode()
    assert f'href="/applications/{ref}/confirmation/"' in detail
    assert f'href="/applications/{ref}/answers/"' in detail
    confirmation = client.get(f"/applications/{ref}/confirmation/").content.decode()
    assert "Application submitted" in confirmation and ref in confirmation
    answers = client.get(f"/applications/{ref}/answers/").content.decode()
    stored = actions.application_answers(Application.objects.get(pk=application.pk))
    national_id = stored["applicant.national_id"]
    assert national_id not in answers  # masked, as on every page kept after submission
    assert national_id[:4] + "*" * 10 + national_id[-4:] in answers
    assert "Moving house" in answers or "Your move" in answers
    assert stored["move.new_address"][:6] in answers


@pytest.mark.parametrize("page", ["confirmation", "answers", "erase"])
def test_the_pages_after_submission_are_the_owners_only(client, demo, page):
    application = ApplicationFactory(submitted=True)
    client.force_login(UserFactory())
    assert client.get(f"/applications/{application.reference}/{page}/").status_code == 404


@pytest.mark.parametrize("page", ["confirmation", "answers"])
def test_a_draft_has_no_confirmation_nor_submitted_answers(client, moving_draft, page):
    client.force_login(moving_draft.citizen)
    assert client.get(f"/applications/{moving_draft.reference}/{page}/").status_code == 404


def test_submitting_leads_to_the_confirmation(client, demo):
    application = ApplicationFactory()
    client.force_login(application.citizen)
    response = client.post(f"/applications/{application.reference}/review/")
    assert response["Location"] == f"/applications/{application.reference}/confirmation/"


def test_erasing_asks_first_then_erases(client, demo):
    application = ApplicationFactory(withdrawn=True)
    ref = application.reference
    client.force_login(application.citizen)
    page = client.get(f"/applications/{ref}/erase/").content.decode()
    assert "Yes, erase my personal data" in page
    assert Application.objects.get(pk=application.pk).erased_at is None
    client.post(f"/applications/{ref}/erase/")
    assert Application.objects.get(pk=application.pk).erased_at is not None
    again = client.get(f"/applications/{ref}/erase/").content.decode()
    assert "was erased on" in again and "Yes, erase" not in again


def test_erasing_an_open_application_says_why_not_and_changes_nothing(client, demo):
    application = ApplicationFactory(submitted=True)
    client.force_login(application.citizen)
    page = client.get(f"/applications/{application.reference}/erase/").content.decode()
    assert "Only a completed or withdrawn application can be erased." in page
    assert "Yes, erase" not in page
    client.post(f"/applications/{application.reference}/erase/")
    application.refresh_from_db()
    assert application.erased_at is None and application.status == "submitted"


def test_a_completed_application_is_not_withdrawn_and_the_page_says_why(client, demo):
    application = ApplicationFactory(submitted=True)
    Application.objects.filter(pk=application.pk).update(status="completed")
    client.force_login(application.citizen)
    url = f"/applications/{application.reference}/withdraw/"
    page = client.get(url).content.decode()
    assert "cannot be withdrawn: its status is “Completed”" in page and "Yes, withdraw" not in page
    response = client.post(url, follow=True)
    assert "A completed application cannot be withdrawn." in response.content.decode()
    assert Application.objects.get(pk=application.pk).status == "completed"
    assert not AuditEvent.objects.filter(action="application.withdraw").exists()


def test_a_withdrawn_application_cannot_be_withdrawn_again(client, demo):
    application = ApplicationFactory(withdrawn=True)
    client.force_login(application.citizen)
    page = client.get(f"/applications/{application.reference}/withdraw/").content.decode()
    assert "cannot be withdrawn" in page and "Yes, withdraw it" not in page


def test_a_page_with_errors_is_titled_error_and_summarised_first(client, moving_draft):
    client.force_login(moving_draft.citizen)
    url = f"/applications/{moving_draft.reference}/form/applicant/"
    clean = client.get(url).content.decode()
    assert "<title>About you" in clean and "error-summary" not in clean
    body = client.post(url, {"applicant__national_id": "110105194912310021"}).content.decode()
    assert re.search(r"<title>Error: About you", body)
    summary = body.index('class="error-summary"')
    assert summary < body.index("<h1>") < body.index('<form method="post" novalidate')
    assert 'href="#id_applicant__national_id"' in body
    assert "The last character of the ID number does not match; check the number." in body
    described = r'<input[^>]*aria-describedby="[^"]*id_applicant__national_id_error"[^>]*>'
    assert re.search(described, body)
    assert "autofocus" in body and "js/error-summary.js" in body


def test_the_api_gives_the_same_per_failure_message(demo):
    from tests.factories import api_client

    application = ApplicationFactory()
    api = api_client(application.citizen)
    response = api.patch(
        f"/api/v1/applications/{application.reference}/",
        {"answers": {"applicant.national_id": "11010519491231002"}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["applicant.national_id"] == [
        "The ID number is too short: it has 17 characters; it needs 18."
    ]
