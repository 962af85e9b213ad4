"""The citizen's pages refuse what they must: other people's applications, edits after submit,
bad input; and they keep what was typed when they refuse."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from services import actions
from services.models import Application
from services.selectors import versions_published_for
from tests.factories import UserFactory, newborn_draft

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def draft(demo):
    application, _attachment = newborn_draft(UserFactory(), file_name="cert.pdf", content=PDF)
    return application


def test_catalog_is_public_and_searchable(client, demo):
    body = client.get("/services/").content.decode()
    assert "Birth of a child" in body and "Moving house" in body and "Sign in to apply" in body
    body = client.get("/services/?q=vehicle").content.decode()
    assert "Moving house" in body and "Birth of a child" not in body


def test_choosing_services_needs_sign_in(client, demo):
    response = client.post("/services/", {"services": ["newborn"]})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Application.objects.exists()


def test_choosing_no_service_is_an_error(client, demo):
    client.force_login(UserFactory())
    response = client.post("/services/", {})
    assert "Choose at least one service." in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/applications/{ref}/",
        "/applications/{ref}/form/",
        "/applications/{ref}/form/applicant/",
        "/applications/{ref}/review/",
        "/applications/{ref}/withdraw/",
        "/applications/{ref}/files/{token}/",
    ],
)
def test_another_citizens_application_is_a_404_on_every_page(client, draft, path):
    client.force_login(UserFactory())
    token = draft.attachments.get().token
    assert client.get(path.format(ref=draft.reference, token=token)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, draft):
    response = client.get(f"/applications/{draft.reference}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_owner_downloads_the_file_as_an_attachment(client, draft):
    client.force_login(draft.citizen)
    attachment = draft.attachments.get()
    response = client.get(f"/applications/{draft.reference}/files/{attachment.token}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF


def test_an_invalid_page_shows_errors_keeps_input_and_saves_nothing(client, draft):
    client.force_login(draft.citizen)
    response = client.post(
        f"/applications/{draft.reference}/form/applicant/",
        {"applicant__full_name": "Wang Fang", "applicant__phone": "12345"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in body and "The mobile phone number has 5 digits" in body
    assert 'value="Wang Fang"' in body
    assert actions.application_answers(Application.objects.get(pk=draft.pk)) == {
        "birth.certificate": draft.attachments.get().token
    }


def test_a_wrong_file_type_is_refused_on_the_page(client, draft):
    client.force_login(draft.citizen)
    response = client.post(
        f"/applications/{draft.reference}/form/birth/",
        {
            "birth__certificate": SimpleUploadedFile(
                "evil.pdf", b"<html><script>x</script>", content_type="application/pdf"
            )
        },
    )
    assert "The file must be one of" in response.content.decode()
    assert draft.attachments.count() == 1


def test_review_lists_what_is_missing_and_does_not_submit(client, draft):
    client.force_login(draft.citizen)
    response = client.post(f"/applications/{draft.reference}/review/")
    body = response.content.decode()
    assert "This field is required." in body
    assert Application.objects.get(pk=draft.pk).status == "draft"


def test_after_submit_the_form_pages_lead_to_the_status_page(client, demo):
    citizen = UserFactory()
    from tests.data import LI_WEI_MOVING_OF_TWO as ANSWERS

    application = actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["moving-house"]), answers=ANSWERS
    )
    actions.application_submit(application=application, actor=citizen)
    client.force_login(citizen)
    response = client.post(
        f"/applications/{application.reference}/form/applicant/", {"applicant__full_name": "X Y"}
    )
    assert (
        response.status_code == 302
        and response["Location"] == f"/applications/{application.reference}/"
    )
    assert (
        actions.application_answers(Application.objects.get(pk=application.pk))[
            "applicant.full_name"
        ]
        == "Li Wei"
    )
    body = client.get(f"/applications/{application.reference}/").content.decode()
    assert "Application submitted" in body and application.reference in body


def test_withdraw_asks_then_withdraws(client, draft):
    client.force_login(draft.citizen)
    assert (
        "Yes, withdraw it"
        in client.get(f"/applications/{draft.reference}/withdraw/").content.decode()
    )
    client.post(f"/applications/{draft.reference}/withdraw/")
    assert Application.objects.get(pk=draft.pk).status == "withdrawn"


def test_profile_page_saves_and_refuses_bad_values(client, demo):
    citizen = UserFactory()
    client.force_login(citizen)
    response = client.post("/profile/", {"applicant__national_id": "123"})
    assert "national ID" in response.content.decode()
    response = client.post(
        "/profile/",
        {"applicant__national_id": "11010519491231002x", "applicant__phone": "+86 138-1234-5678"},
    )
    assert response.status_code == 302
    from services.selectors import profile_facts

    facts = profile_facts(user=citizen)
    assert facts == {
        "applicant.national_id": "11010519491231002X",
        "applicant.phone": "13812345678",
    }
