"""Representatives: an applicant authorises another citizen (email and national ID, checked by
the blind index) to view one application, answer a department's questions and send files, and
to withdraw or erase it only when given those rights. Revoking takes the access away at once;
the audit names the applicant as the subject; staff see that a reply came from a
representative."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from services import actions
from services.actions import InvalidInput, NotAllowed, WrongState
from services.models import Application, ApplicationUserObjectPermission, Representation
from services.permissions import application_access, represented_applications
from tests.data import NEWBORN, OTHER_NATIONAL_ID, PDF
from tests.factories import UserFactory, api_for, newborn_draft, submit_moving
from workflows import actions as workflow_actions
from workflows import routing
from workflows.models import Case, InformationRequest
from workflows.selectors import case_timeline

pytestmark = pytest.mark.django_db

SON_ID = OTHER_NATIONAL_ID


@pytest.fixture
def son(demo):
    """A citizen with his national ID saved in his profile."""
    user = UserFactory(email="son@example.org", full_name="Wang Xiaoming")
    actions.profile_update(user=user, facts={"applicant.national_id": SON_ID})
    return user


@pytest.fixture
def mother(demo):
    return UserFactory(email="mother@example.org", full_name="Li Guilan")


@pytest.fixture
def moving(mother):
    """The mother's routed moving-house application."""
    application = submit_moving(citizen=mother)
    routing.advance(application_id=application.pk)
    return Application.objects.get(pk=application.pk)


def _grant(application, mother, **rights):
    return actions.representation_grant(
        application=application, actor=mother, email="son@example.org", national_id=SON_ID, **rights
    )


def _upload_certificate(api, application):
    """An API upload of a birth certificate to the application."""
    return api.post(
        f"/api/v1/applications/{application.reference}/attachments/",
        {
            "field": "birth.certificate",
            "file": SimpleUploadedFile("new.pdf", PDF, content_type="application/pdf"),
        },
        format="multipart",
    )


def _ask(application, step="tax", email="clerk.tax@demo.gov"):
    from accounts.models import User

    clerk = User.objects.get(email=email)
    case = application.cases.get(step=step)
    workflow_actions.case_request_info(case=case, actor=clerk, message="Please confirm the date.")
    return Case.objects.get(pk=case.pk), clerk


# --- Authorising ---------------------------------------------------------------------------------


def test_grant_by_email_and_national_id(moving, mother, son):
    representation = _grant(moving, mother)
    assert representation.representative == son and representation.principal == mother
    access = application_access(son, moving)
    assert access.can_view and access.can_act and access.is_representative
    assert not access.can_withdraw and not access.can_erase and not access.can_edit
    granted = set(
        ApplicationUserObjectPermission.objects.filter(user=son, content_object=moving).values_list(
            "permission__codename", flat=True
        )
    )
    assert granted == {"view_application", "act_on_application"}
    event = AuditEvent.objects.get(action="representation.grant")
    assert event.subject_id == mother.pk
    assert event.details == {
        "representative": son.pk,
        "rights": ["view_application", "act_on_application"],
    }


def test_a_wrong_national_id_is_refused_like_an_unknown_email(moving, mother, son):
    with pytest.raises(InvalidInput) as wrong_id:
        actions.representation_grant(
            application=moving, actor=mother, email="son@example.org", national_id="110105"
        )
    with pytest.raises(InvalidInput) as unknown:
        actions.representation_grant(
            application=moving, actor=mother, email="nobody@example.org", national_id=SON_ID
        )
    assert wrong_id.value.message == unknown.value.message
    assert wrong_id.value.errors == unknown.value.errors
    assert not Representation.objects.exists()
    assert not ApplicationUserObjectPermission.objects.exists()


def test_a_citizen_without_a_saved_national_id_is_refused_the_same(moving, mother, son):
    UserFactory(email="cousin@example.org")
    with pytest.raises(InvalidInput) as refused:
        actions.representation_grant(
            application=moving, actor=mother, email="cousin@example.org", national_id=SON_ID
        )
    assert "No citizen account matches" in refused.value.message


def test_only_the_owner_grants_not_to_themselves_and_not_twice(moving, mother, son):
    with pytest.raises(NotAllowed):
        actions.representation_grant(
            application=moving, actor=son, email="son@example.org", national_id=SON_ID
        )
    actions.profile_update(user=mother, facts={"applicant.national_id": SON_ID})
    with pytest.raises(InvalidInput, match="yourself"):
        actions.representation_grant(
            application=moving, actor=mother, email="mother@example.org", national_id=SON_ID
        )
    _grant(moving, mother)
    with pytest.raises(WrongState):
        _grant(moving, mother)
    assert Representation.objects.count() == 1


def test_the_api_refuses_a_representative_authorising_someone_else(moving, mother, son):
    _grant(moving, mother)
    response = api_for(son).post(
        f"/api/v1/applications/{moving.reference}/representatives/",
        {"email": "mother@example.org", "national_id": SON_ID},
        format="json",
    )
    assert response.status_code == 403
    assert Representation.objects.count() == 1


def test_the_api_grants_lists_and_revokes(moving, mother, son):
    api = api_for(mother)
    url = f"/api/v1/applications/{moving.reference}/representatives/"
    wrong = api.post(url, {"email": "son@example.org", "national_id": "x"}, format="json")
    assert wrong.status_code == 400 and "email" in wrong.json()["errors"]
    created = api.post(
        url,
        {"email": "son@example.org", "national_id": SON_ID, "may_withdraw": True},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["rights"] == [
        "view_application",
        "act_on_application",
        "withdraw_application",
    ]
    listed = api.get(url).json()
    assert [r["email"] for r in listed] == ["son@example.org"]
    assert [r["email"] for r in api_for(son).get(url).json()] == ["son@example.org"]
    revoked = api.post(f"{url}{created.json()['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert api_for(son).get(f"/api/v1/applications/{moving.reference}/").status_code == 404


# --- Acting ---------------------------------------------------------------------------------------


def test_the_representative_reads_the_application_masked(moving, mother, son, client):
    _grant(moving, mother)
    body = api_for(son).get(f"/api/v1/applications/{moving.reference}/").json()
    national_id = body["answers"]["applicant.national_id"]
    assert "*" in national_id
    client.force_login(son)
    page = client.get(f"/applications/{moving.reference}/").content.decode()
    assert "You act for Li Guilan on this application." in page
    assert "Withdraw this application" not in page
    assert client.get(f"/applications/{moving.reference}/answers/").status_code == 200
    listed = client.get("/me/representing/").content.decode()
    assert moving.reference in listed and "Li Guilan" in listed


def test_the_representative_replies_and_staff_see_it(moving, mother, son, client):
    _grant(moving, mother)
    case, clerk = _ask(moving)
    client.force_login(son)
    response = client.post(
        f"/applications/{moving.reference}/cases/{case.reference}/reply/",
        {"message": "She moved on the 15th."},
    )
    assert response.status_code == 302
    question = InformationRequest.objects.get(case=case)
    assert question.replied_by == son and question.reply_plain == "She moved on the 15th."
    reply = next(e for e in case_timeline(case=case) if e["kind"] == "reply")
    assert reply["by_name"] == "Representative Wang Xiaoming for the citizen"
    assert reply["representative"] is True
    staff = api_for(clerk).get(f"/api/v1/cases/{case.reference}/").json()
    assert any(e["kind"] == "reply" and e["representative"] for e in staff["timeline"])
    event = AuditEvent.objects.get(action="case.citizen_reply")
    assert event.actor_id == son.pk and event.details["representative"] == son.pk


def test_the_owner_reply_names_the_citizen(moving, mother, son):
    case, _clerk = _ask(moving)
    workflow_actions.case_citizen_replied(case=case, citizen=mother, message="Yes.")
    reply = next(e for e in case_timeline(case=case) if e["kind"] == "reply")
    assert reply["by"] == "citizen" and reply["representative"] is False


def test_the_representative_uploads_a_file_a_department_asked_for(mother, son, media):
    draft, _attachment = newborn_draft(
        mother, answers={**NEWBORN, "child.date_of_birth": "2025-06-01"}
    )
    actions.application_submit(application=Application.objects.get(pk=draft.pk), actor=mother)
    routing.advance(application_id=draft.pk)
    application = Application.objects.get(pk=draft.pk)
    _grant(application, mother)
    case, _clerk = _ask(application, step="register-birth", email="clerk.civil-registry@demo.gov")
    api = api_for(son)
    upload = _upload_certificate(api, application)
    assert upload.status_code == 201, upload.json()
    token = upload.json()["token"]
    replied = api.post(
        f"/api/v1/applications/{application.reference}/reply/",
        {
            "case": case.reference,
            "message": "A clearer copy.",
            "answers": {"birth.certificate": token},
        },
        format="json",
    )
    assert replied.status_code == 200, replied.json()
    assert (
        actions.application_answers(Application.objects.get(pk=application.pk))["birth.certificate"]
        == token
    )


def test_a_file_nobody_asked_for_is_refused(moving, mother, son, media):
    _grant(moving, mother)
    response = _upload_certificate(api_for(son), moving)
    assert response.status_code == 409


def test_withdraw_and_erase_need_their_rights(moving, mother, son, client):
    _grant(moving, mother)
    api = api_for(son)
    assert api.post(f"/api/v1/applications/{moving.reference}/withdraw/").status_code == 403
    client.force_login(son)
    assert client.post(f"/applications/{moving.reference}/withdraw/").status_code == 403
    assert client.get(f"/applications/{moving.reference}/erase/").status_code == 403
    assert api.post(f"/api/v1/applications/{moving.reference}/erase/").status_code == 403
    assert Application.objects.get(pk=moving.pk).status != "withdrawn"


def test_with_the_rights_the_representative_withdraws_and_erases(moving, mother, son):
    _grant(moving, mother, may_withdraw=True, may_erase=True)
    api = api_for(son)
    withdrawn = api.post(f"/api/v1/applications/{moving.reference}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    erased = api.post(f"/api/v1/applications/{moving.reference}/erase/")
    assert erased.status_code == 200
    assert Application.objects.get(pk=moving.pk).erased_at is not None
    event = AuditEvent.objects.get(action="application.withdraw")
    assert event.actor_id == son.pk


def test_the_representative_does_not_edit_a_draft(mother, son, media):
    draft, _attachment = newborn_draft(mother)
    _grant(draft, mother)
    api = api_for(son)
    url = f"/api/v1/applications/{draft.reference}/"
    assert api.get(url).status_code == 200
    assert api.patch(url, {"answers": {}}, format="json").status_code == 403
    assert api.post(f"{url}submit/").status_code == 403
    upload = _upload_certificate(api, draft)
    assert upload.status_code == 403


# --- Revoking, and what stays out of reach -------------------------------------------------------


def test_revocation_removes_access_at_once(moving, mother, son, client):
    representation = _grant(moving, mother)
    client.force_login(son)
    assert client.get(f"/applications/{moving.reference}/").status_code == 200
    client.force_login(mother)
    response = client.post(
        f"/applications/{moving.reference}/representatives/{representation.pk}/revoke/"
    )
    assert response.status_code == 302
    client.force_login(son)
    assert client.get(f"/applications/{moving.reference}/").status_code == 404
    assert not application_access(son, moving).can_view
    assert not represented_applications(son).exists()
    assert not ApplicationUserObjectPermission.objects.filter(user=son).exists()
    event = AuditEvent.objects.get(action="representation.revoke")
    assert event.actor_id == mother.pk and event.details["representative"] == son.pk


def test_the_representative_steps_down(moving, mother, son):
    representation = _grant(moving, mother)
    actions.representation_revoke(representation=representation, actor=son)
    assert Representation.objects.get().revoked_by == son
    assert not application_access(son, moving).can_view


def test_a_stranger_cannot_revoke(moving, mother, son):
    representation = _grant(moving, mother)
    stranger = UserFactory()
    with pytest.raises(NotAllowed):
        actions.representation_revoke(representation=representation, actor=stranger)


def test_the_representative_does_not_see_the_owner_other_applications_or_profile(
    moving, mother, son, client
):
    other = submit_moving(citizen=mother)
    _grant(moving, mother)
    assert list(represented_applications(son)) == [moving]
    client.force_login(son)
    assert client.get(f"/applications/{other.reference}/").status_code == 404
    assert api_for(son).get(f"/api/v1/applications/{other.reference}/").status_code == 404
    listed = api_for(son).get("/api/v1/applications/").json()
    assert moving.reference not in str(listed) and other.reference not in str(listed)
    home = client.get("/").content.decode()
    assert moving.reference not in home and other.reference not in home
    profile = api_for(son).get("/api/v1/me/profile/").json()
    assert profile["facts"] == {"applicant.national_id": SON_ID}


def test_grant_and_revoke_are_shown_to_both(moving, mother, son, client):
    representation = _grant(moving, mother, may_erase=True)
    client.force_login(mother)
    page = client.get(f"/applications/{moving.reference}/").content.decode()
    assert "Representatives" in page and "son@example.org" in page and "may erase" in page
    actions.representation_revoke(representation=representation, actor=mother)
    page = client.get(f"/applications/{moving.reference}/").content.decode()
    assert "revoked on" in page
    client.force_login(son)
    listed = client.get("/me/representing/").content.decode()
    assert moving.reference in listed and "revoked on" in listed
    events = AuditEvent.objects.filter(action__startswith="representation.")
    assert events.count() == 2
    assert {e.subject_id for e in events} == {mother.pk}


def test_the_form_on_the_page_refuses_with_the_one_message(moving, mother, son, client):
    client.force_login(mother)
    response = client.post(
        f"/applications/{moving.reference}/representatives/",
        {"email": "son@example.org", "national_id": "110105199901010000"},
    )
    assert response.status_code == 400
    assert "No citizen account matches this email address and national ID." in (
        response.content.decode()
    )
    response = client.post(
        f"/applications/{moving.reference}/representatives/",
        {"email": "son@example.org", "national_id": SON_ID, "may_withdraw": "on"},
    )
    assert response.status_code == 302
    assert Representation.objects.get().may_withdraw
