"""The citizen side of the API: the catalog and one's own applications.

Covers the contract that the catalog is public and describes each form as a JSON Schema a client
can render (titles, sensitivity, valid examples, conditions), that a citizen starts, saves,
submits and withdraws only their own applications, that a field shared by several services is
asked once and prefilled from the profile, that file fields take only real, small enough files,
and that every refusal is a 4xx in the design's error shape which changes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from accounts.actions import token_issue
from accounts.models import Department
from audit.models import AuditEvent
from services.models import Application, Attachment, FieldDefinition, Service
from services.schema import FORMAT_CHECKER
from services.selectors import attachment_content
from tests.data import APPLICANT, BUSINESS, MOVING, NATIONAL_ID, NEWBORN, PDF, VEHICLE_PLATE_RULE

pytestmark = pytest.mark.django_db

SERVICES_URL = "/api/v1/services/"
APPLICATIONS_URL = "/api/v1/applications/"
PROFILE_URL = "/api/v1/me/profile/"
DEMO_SLUGS = {"newborn", "moving-house", "start-business"}
REFERENCE_RE = re.compile(r"^A-[23456789A-HJ-NP-Z]{4}-[23456789A-HJ-NP-Z]{4}$")


def url(reference: str, action: str = "") -> str:
    return f"{APPLICATIONS_URL}{reference}/{action + '/' if action else ''}"


def create(client: APIClient, services: list[str], answers: dict[str, Any] | None = None) -> dict:
    response = client.post(
        APPLICATIONS_URL, {"services": services, "answers": answers or {}}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def patch(client: APIClient, reference: str, answers: dict[str, Any]):
    return client.patch(url(reference), {"answers": answers}, format="json")


def upload(client: APIClient, reference: str, field: str, content: bytes, name: str = "scan.pdf"):
    return client.post(
        url(reference, "attachments"),
        {"field": field, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def counts() -> tuple[int, int]:
    return Application.objects.count(), AuditEvent.objects.count()


def catalog_entries() -> dict[str, dict]:
    body = APIClient().get(SERVICES_URL).json()
    return {entry["slug"]: entry for entry in body["results"]}


# --- Catalog --------------------------------------------------------------------------------------


def test_catalog_is_public_and_paginated(catalog):
    response = APIClient().get(SERVICES_URL)
    assert response.status_code == 200
    body = response.json()
    assert {"results", "next", "previous", "count"} <= set(body)
    assert body["count"] == 3
    entries = {e["slug"]: e for e in body["results"]}
    assert set(entries) == DEMO_SLUGS
    for entry in entries.values():
        assert {"slug", "name", "description", "version", "departments", "form"} <= set(entry)
        assert entry["name"] and entry["description"]
        assert entry["version"] == 1
    assert entries["newborn"]["name"] == "Birth of a child"
    page = APIClient().get(SERVICES_URL + "?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]


def test_each_life_event_involves_three_or_more_real_departments(catalog):
    known = set(Department.objects.values_list("slug", flat=True))
    for slug, entry in catalog_entries().items():
        departments = entry["departments"]
        assert len(departments) >= 3, slug
        assert len(set(departments)) == len(departments), slug
        assert set(departments) <= known, slug
    assert catalog_entries()["moving-house"]["departments"] == [
        "household-registration",
        "tax",
        "transport",
        "education",
    ]


def test_each_form_is_a_json_schema_of_dictionary_fields(catalog):
    dictionary = {fd.key: fd for fd in FieldDefinition.objects.all()}
    for slug, entry in catalog_entries().items():
        form = entry["form"]
        Draft202012Validator.check_schema(form)
        assert form["type"] == "object"
        version_keys = [f["key"] for f in Service.objects.get(slug=slug).versions.get().fields]
        assert list(form["properties"]) == version_keys
        for key, prop in form["properties"].items():
            assert prop["x-sensitivity"] == dictionary[key].sensitivity, key
            assert prop["x-sensitivity"] in {"public", "personal", "sensitive"}
            assert prop["title"] == dictionary[key].label, key


def test_formats_are_declared_where_they_apply(catalog):
    properties = catalog_entries()["newborn"]["form"]["properties"]
    assert properties["applicant.national_id"]["format"] == "national-id"
    assert properties["applicant.phone"]["format"] == "phone"
    assert properties["applicant.date_of_birth"]["format"] == "date"
    assert properties["applicant.email"]["format"] == "email"
    assert properties["birth.certificate"]["format"] == "file"
    assert properties["applicant.national_id"]["x-sensitivity"] == "sensitive"
    assert properties["birth.hospital"]["x-sensitivity"] == "public"


def test_every_example_is_a_valid_value_of_its_field(catalog):
    for slug, entry in catalog_entries().items():
        for key, prop in entry["form"]["properties"].items():
            assert prop.get("examples"), f"{slug}: {key} has no example"
            validator = Draft202012Validator(prop, format_checker=FORMAT_CHECKER)
            for example in prop["examples"]:
                errors = [e.message for e in validator.iter_errors(example)]
                assert not errors, f"{slug}: example {example!r} of {key}: {errors}"


def test_the_format_checker_rejects_what_the_examples_must_not_be(catalog):
    # Guards the test above: the examples pass because they are valid, not because nothing fails.
    properties = catalog_entries()["moving-house"]["form"]["properties"]
    checks = {
        "applicant.national_id": "110105194912310021",  # wrong check character
        "applicant.phone": "12345678901",
        "applicant.date_of_birth": "1990-02-30",
        "household.size": "three",
    }
    for key, bad in checks.items():
        validator = Draft202012Validator(properties[key], format_checker=FORMAT_CHECKER)
        assert not validator.is_valid(bad), key
    certificate = catalog_entries()["newborn"]["form"]["properties"]["birth.certificate"]
    validator = Draft202012Validator(certificate, format_checker=FORMAT_CHECKER)
    assert not validator.is_valid("../../etc/passwd")


def test_conditions_are_exposed_so_a_client_can_render_the_same_form(catalog):
    form = catalog_entries()["moving-house"]["form"]
    plate = form["properties"]["vehicle.plate"]
    assert plate["x-condition"] == {"field": "household.has_vehicle", "equals": True}
    assert "vehicle.plate" not in form["required"]
    assert {"move.new_address", "household.size", "applicant.national_id"} <= set(form["required"])
    assert VEHICLE_PLATE_RULE in form["allOf"]
    # A client validating with the schema alone reaches the server's verdict.
    validator = Draft202012Validator(form, format_checker=FORMAT_CHECKER)
    assert validator.is_valid(MOVING)
    with_vehicle = {**MOVING, "household.has_vehicle": True}
    assert [e.message for e in validator.iter_errors(with_vehicle)] == [
        "'vehicle.plate' is a required property"
    ]
    assert validator.is_valid({**with_vehicle, "vehicle.plate": "京A12345"})


def test_search_narrows_the_catalog(catalog):
    def slugs(query: str) -> set[str]:
        response = APIClient().get(SERVICES_URL, {"q": query})
        assert response.status_code == 200
        return {e["slug"] for e in response.json()["results"]}

    assert slugs("business") == {"start-business"}
    assert slugs("hukou") == {"newborn", "moving-house"}
    assert slugs("no such service anywhere") == set()
    assert slugs("") == DEMO_SLUGS


# --- Starting a draft -----------------------------------------------------------------------------


def test_a_citizen_starts_a_draft(catalog, api):
    before = Application.objects.count()
    body = create(api, ["moving-house"], {"household.size": 2, "move.date": "2026-12-15"})
    assert REFERENCE_RE.match(body["reference"])
    assert body["status"] == "draft"
    assert body["submitted_at"] is None
    assert body["services"] == ["moving-house"]
    assert body["answers"] == {"household.size": 2, "move.date": "2026-12-15"}
    assert body["cases"] == []
    assert Application.objects.count() == before + 1
    again = api.get(url(body["reference"]))
    assert again.status_code == 200
    assert again.json()["answers"] == body["answers"]


@pytest.mark.parametrize(
    ("payload", "error_key"),
    [
        ({"services": ["no-such-service"]}, "services"),
        ({"services": ["moving-house", "no-such-service"]}, "services"),
        ({"services": []}, "services"),
        ({"services": ["moving-house"], "answers": {"no.such_key": "x"}}, "no.such_key"),
        # A dictionary field that none of the chosen services asks.
        ({"services": ["moving-house"], "answers": {"business.name": "Shop"}}, "business.name"),
        ({"services": ["moving-house"], "answers": {"household.size": "abc"}}, "household.size"),
        ({"services": ["moving-house"], "answers": {"household.size": 0}}, "household.size"),
        (
            {
                "services": ["moving-house"],
                "answers": {"applicant.national_id": "110105194912310021"},
            },
            "applicant.national_id",
        ),
        ({"services": ["moving-house"], "answers": {"applicant.phone": "1234"}}, "applicant.phone"),
        ({"services": ["moving-house"], "answers": ["not", "an", "object"]}, "answers"),
    ],
)
def test_a_refused_start_says_why_and_creates_nothing(catalog, api, payload, error_key):
    before = counts()
    response = api.post(APPLICATIONS_URL, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"errors"}
    assert error_key in body["errors"]
    assert all(isinstance(m, str) and m for m in body["errors"][error_key])
    assert counts() == before


def test_unknown_service_names_the_slug(catalog, api):
    response = api.post(APPLICATIONS_URL, {"services": ["no-such-service"]}, format="json")
    assert response.json() == {"errors": {"services": ["Unknown service: no-such-service"]}}


def test_anonymous_cannot_start_an_application(catalog):
    before = counts()
    response = APIClient().post(APPLICATIONS_URL, {"services": ["newborn"]}, format="json")
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
    assert counts() == before


def test_anonymous_cannot_list_applications(catalog):
    response = APIClient().get(APPLICATIONS_URL)
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_a_token_works_for_scripted_clients(catalog, citizen):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + token_issue(actor=None, user=citizen).key)
    body = create(client, ["start-business"])
    assert Application.objects.get(reference=body["reference"]).citizen == citizen


def test_fields_shared_by_two_services_are_asked_once(catalog, api):
    response = api.post(
        APPLICATIONS_URL, {"services": ["start-business", "moving-house"]}, format="json"
    )
    assert response.status_code == 201

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
        return dict(pairs)

    body = json.loads(response.content, object_pairs_hook=no_duplicates)
    assert body["services"] == ["moving-house", "start-business"]
    form = body["form"]
    Draft202012Validator.check_schema(form)
    fields = {
        slug: [f["key"] for f in Service.objects.get(slug=slug).versions.get().fields]
        for slug in ("moving-house", "start-business")
    }
    shared = set(fields["moving-house"]) & set(fields["start-business"])
    assert shared == set(APPLICANT) | {"applicant.email"}
    assert set(form["properties"]) == set(fields["moving-house"]) | set(fields["start-business"])
    assert len(form["required"]) == len(set(form["required"]))
    assert form["required"].count("applicant.national_id") == 1
    # One answer to the shared fields is enough for both services.
    reference = body["reference"]
    assert patch(api, reference, {**MOVING, **BUSINESS}).status_code == 200
    submitted = api.post(url(reference, "submit"))
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"


def test_a_new_application_is_prefilled_from_the_profile(catalog, api):
    facts = {
        "applicant.full_name": APPLICANT["applicant.full_name"],
        "applicant.national_id": NATIONAL_ID,
        "applicant.phone": APPLICANT["applicant.phone"],
        "applicant.address": APPLICANT["applicant.address"],
    }
    response = api.patch(PROFILE_URL, {"facts": facts}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["facts"] == facts
    body = create(api, ["moving-house"], {"applicant.phone": "13700001111", "household.size": 3})
    assert body["answers"] == {
        **facts,
        "applicant.phone": "13700001111",  # what the citizen typed beats the profile
        "household.size": 3,
    }


def test_a_profile_refuses_a_bad_fact_and_keeps_the_old_ones(catalog, api):
    api.patch(PROFILE_URL, {"facts": {"applicant.phone": "13987654321"}}, format="json")
    response = api.patch(PROFILE_URL, {"facts": {"applicant.phone": "555-1234"}}, format="json")
    assert response.status_code == 400
    assert "applicant.phone" in response.json()["errors"]
    response = api.patch(PROFILE_URL, {"facts": {"household.size": 3}}, format="json")
    assert response.status_code == 400
    assert "household.size" in response.json()["errors"]
    assert api.get(PROFILE_URL).json()["facts"] == {"applicant.phone": "13987654321"}


# --- Own applications only ------------------------------------------------------------------------


def test_the_list_holds_only_ones_own_applications(catalog, api, other_api):
    mine = {create(api, ["newborn"])["reference"], create(api, ["moving-house"])["reference"]}
    create(other_api, ["newborn"])
    response = api.get(APPLICATIONS_URL)
    assert response.status_code == 200
    body = response.json()
    assert {a["reference"] for a in body["results"]} == mine
    assert body["count"] == 2


@pytest.mark.parametrize(
    ("method", "action", "data", "format_"),
    [
        ("get", "", None, None),
        ("patch", "", {"answers": {"household.size": 9}}, "json"),
        ("post", "submit", None, None),
        ("post", "withdraw", None, None),
        ("post", "attachments", "file", "multipart"),
    ],
)
def test_another_citizens_application_is_not_found(
    catalog, api, other_api, method, action, data, format_
):
    theirs = create(other_api, ["moving-house"], MOVING)["reference"]
    if data == "file":
        data = {"field": "birth.certificate", "file": SimpleUploadedFile("x.pdf", PDF)}
    before = counts()
    response = getattr(api, method)(url(theirs, action), data, format=format_)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert counts() == before
    detail = other_api.get(url(theirs)).json()
    assert detail["status"] == "draft"
    assert detail["answers"] == MOVING
    assert not Attachment.objects.exists()


def test_an_unknown_reference_is_not_found(catalog, api):
    assert api.get(url("A-2222-2222")).status_code == 404


# --- Saving and submitting ------------------------------------------------------------------------


def test_saving_answers_of_a_draft(catalog, api):
    reference = create(api, ["moving-house"], {"household.size": 2})["reference"]
    response = patch(api, reference, {"move.new_address": "Caoxi North Road 201, Shanghai"})
    assert response.status_code == 200
    assert response.json()["answers"] == {
        "household.size": 2,
        "move.new_address": "Caoxi North Road 201, Shanghai",
    }
    cleared = patch(api, reference, {"household.size": None})
    assert cleared.json()["answers"] == {"move.new_address": "Caoxi North Road 201, Shanghai"}
    assert api.get(url(reference)).json()["answers"] == cleared.json()["answers"]


def test_saving_a_bad_value_is_refused_and_keeps_the_old_one(catalog, api):
    reference = create(api, ["moving-house"], {"household.size": 2})["reference"]
    response = patch(api, reference, {"household.size": "abc", "move.date": "2026-12-15"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["household.size"]
    assert api.get(url(reference)).json()["answers"] == {"household.size": 2}


def test_answers_cannot_change_after_submission(catalog, api):
    reference = create(api, ["moving-house"], MOVING)["reference"]
    assert api.post(url(reference, "submit")).status_code == 200
    response = patch(api, reference, {"household.size": 7})
    assert response.status_code == 409
    assert set(response.json()) == {"detail"}
    assert api.get(url(reference)).json()["answers"] == MOVING


def test_submitting_with_missing_answers_lists_them_and_stays_a_draft(catalog, api):
    reference = create(api, ["moving-house"], {"household.size": 2})["reference"]
    before = counts()
    response = api.post(url(reference, "submit"))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"applicant.full_name", "applicant.national_id", "move.new_address"} <= set(errors)
    assert errors["move.new_address"] == ["This field is required."]
    assert "household.size" not in errors
    assert "applicant.email" not in errors  # optional
    assert "vehicle.plate" not in errors  # does not apply without a vehicle answer
    detail = api.get(url(reference)).json()
    assert detail["status"] == "draft" and detail["submitted_at"] is None
    assert counts() == before


def test_a_complete_application_is_submitted(catalog, api):
    reference = create(api, ["moving-house"], MOVING)["reference"]
    response = api.post(url(reference, "submit"))
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == reference
    assert body["status"] == "submitted"
    assert body["submitted_at"]
    detail = api.get(url(reference)).json()
    assert detail["status"] == "submitted" and detail["submitted_at"] == body["submitted_at"]
    listed = api.get(APPLICATIONS_URL).json()["results"]
    assert [(a["reference"], a["status"]) for a in listed] == [(reference, "submitted")]


def test_submitting_twice_is_harmless(catalog, api):
    reference = create(api, ["moving-house"], MOVING)["reference"]
    first = api.post(url(reference, "submit"))
    second = api.post(url(reference, "submit"))
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    events = AuditEvent.objects.filter(action="application.submit", target_ref=reference)
    assert events.count() == 1


def test_a_condition_that_applies_makes_its_field_required(catalog, api):
    reference = create(api, ["moving-house"], {**MOVING, "household.has_vehicle": True})[
        "reference"
    ]
    response = api.post(url(reference, "submit"))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["vehicle.plate"]
    assert patch(api, reference, {"vehicle.plate": "京A12345"}).status_code == 200
    response = api.post(url(reference, "submit"))
    assert response.status_code == 200
    assert api.get(url(reference)).json()["answers"]["vehicle.plate"] == "京A12345"


def test_answers_of_a_condition_that_no_longer_applies_are_dropped_at_submission(catalog, api):
    answers = {
        **MOVING,
        "household.has_vehicle": True,
        "vehicle.plate": "京A12345",
        "household.has_school_children": True,
        "school.child_name": "Ouyang Xiaogang",
        "school.grade": "primary-3",
    }
    reference = create(api, ["moving-house"], answers)["reference"]
    patch(api, reference, {"household.has_vehicle": False})
    # Still kept while a draft: the citizen may change their mind again.
    assert api.get(url(reference)).json()["answers"]["vehicle.plate"] == "京A12345"
    assert api.post(url(reference, "submit")).status_code == 200
    kept = api.get(url(reference)).json()["answers"]
    assert "vehicle.plate" not in kept
    assert kept["school.child_name"] == "Ouyang Xiaogang"
    expected = {**answers, "household.has_vehicle": False}
    del expected["vehicle.plate"]
    assert kept == expected


# --- Withdrawing ----------------------------------------------------------------------------------


def test_withdrawing_a_draft_and_no_submitting_after(catalog, api):
    reference = create(api, ["moving-house"], MOVING)["reference"]
    response = api.post(url(reference, "withdraw"))
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    refused = api.post(url(reference, "submit"))
    assert refused.status_code == 409
    assert set(refused.json()) == {"detail"}
    detail = api.get(url(reference)).json()
    assert detail["status"] == "withdrawn" and detail["withdrawn_at"]
    assert detail["submitted_at"] is None


def test_withdrawing_a_submitted_application(catalog, api):
    reference = create(api, ["moving-house"], MOVING)["reference"]
    api.post(url(reference, "submit"))
    response = api.post(url(reference, "withdraw"))
    assert response.status_code == 200
    assert api.get(url(reference)).json()["status"] == "withdrawn"


# --- Attachments ----------------------------------------------------------------------------------


def test_uploading_a_pdf_fills_the_file_field(catalog, api):
    reference = create(api, ["newborn"], NEWBORN)["reference"]
    response = upload(api, reference, "birth.certificate", PDF, name="certificate.pdf")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["field"] == "birth.certificate"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(PDF)
    assert body["name"] == "certificate.pdf"
    detail = api.get(url(reference)).json()
    assert detail["answers"]["birth.certificate"] == body["token"]
    assert [a["token"] for a in detail["attachments"]] == [body["token"]]
    assert api.post(url(reference, "submit")).status_code == 200
    stored = Attachment.objects.get(token=body["token"])
    assert attachment_content(stored) == PDF  # stored encrypted, read back whole


def test_a_file_named_pdf_that_is_not_a_pdf_is_refused(catalog, api):
    reference = create(api, ["newborn"], NEWBORN)["reference"]
    html = b"<!DOCTYPE html><html><body>%PDF-1.4 not really</body></html>"
    for content in (html, b"just some text, honestly a PDF\n"):
        response = upload(api, reference, "birth.certificate", content, name="certificate.pdf")
        assert response.status_code == 400
        assert "birth.certificate" in response.json()["errors"]
    assert not Attachment.objects.exists()
    assert "birth.certificate" not in api.get(url(reference)).json()["answers"]


def test_a_file_over_the_size_limit_is_refused(catalog, api):
    reference = create(api, ["newborn"], NEWBORN)["reference"]
    limit = 5 * 1024 * 1024
    too_big = PDF + b"0" * (limit + 1 - len(PDF))
    response = upload(api, reference, "birth.certificate", too_big)
    assert response.status_code == 400
    assert "5 MB" in response.json()["errors"]["birth.certificate"][0]
    assert not Attachment.objects.exists()
    just_fits = PDF + b"0" * (limit - len(PDF))
    assert upload(api, reference, "birth.certificate", just_fits).status_code == 201


@pytest.mark.parametrize("field", ["applicant.full_name", "no.such_field", "business.name"])
def test_a_file_for_a_field_that_takes_none_is_refused(catalog, api, field):
    reference = create(api, ["newborn"], NEWBORN)["reference"]
    response = upload(api, reference, field, PDF)
    assert response.status_code == 400
    assert set(response.json()) == {"errors"}
    assert not Attachment.objects.exists()
    assert api.get(url(reference)).json()["answers"] == NEWBORN


def test_an_upload_without_a_file_is_refused(catalog, api):
    reference = create(api, ["newborn"], NEWBORN)["reference"]
    response = api.post(
        url(reference, "attachments"), {"field": "birth.certificate"}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_no_upload_after_submission(catalog, api):
    reference = create(api, ["newborn"], NEWBORN)["reference"]
    upload(api, reference, "birth.certificate", PDF)
    assert api.post(url(reference, "submit")).status_code == 200
    response = upload(api, reference, "birth.certificate", PDF)
    assert response.status_code == 409
    assert set(response.json()) == {"detail"}
    assert Attachment.objects.count() == 1


def test_submitting_a_file_token_that_was_not_uploaded_is_refused(catalog, api, other_api):
    reference = create(api, ["newborn"], NEWBORN)["reference"]
    assert patch(api, reference, {"birth.certificate": "A" * 24}).status_code == 200
    response = api.post(url(reference, "submit"))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["birth.certificate"]
    # Nor a token of a file uploaded to someone else's application.
    theirs = create(other_api, ["newborn"], NEWBORN)["reference"]
    token = upload(other_api, theirs, "birth.certificate", PDF).json()["token"]
    assert patch(api, reference, {"birth.certificate": token}).status_code == 200
    response = api.post(url(reference, "submit"))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["birth.certificate"]
    assert api.get(url(reference)).json()["status"] == "draft"


# --- Bad input is a 4xx, never a 500 -------------------------------------------------------------


def test_an_oversized_body_is_refused_not_a_crash(catalog, api):
    huge = {"services": ["moving-house"], "answers": {"move.new_address": "x" * (3 * 1024 * 1024)}}
    before = counts()
    response = api.post(APPLICATIONS_URL, huge, format="json")
    # Over DATA_UPLOAD_MAX_MEMORY_SIZE: 413, in the API's error format.
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
    assert counts() == before
    reference = create(api, ["moving-house"], {"household.size": 2})["reference"]
    response = patch(api, reference, huge["answers"])
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}
    assert api.get(url(reference)).json()["answers"] == {"household.size": 2}


def test_answers_over_the_size_limit_are_refused(catalog, api):
    # Under the server's body limit, over the 256 KB the answers of one application may take.
    answers = {f"no.such_key_{i}": "y" * 600 for i in range(500)}
    response = api.post(
        APPLICATIONS_URL, {"services": ["moving-house"], "answers": answers}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"errors": {"answers": ["The answers are too large."]}}
    assert Application.objects.count() == 0


@pytest.mark.parametrize(
    "body", [b'{"services": ["moving-house"], "answers": {', b"not json at all", b"\xff\xfe{}"]
)
def test_a_malformed_json_body_is_a_400_in_the_design_shape(catalog, api, body):
    before = counts()
    response = api.generic("POST", APPLICATIONS_URL, body, content_type="application/json")
    assert response.status_code == 400
    payload = response.json()
    assert set(payload) == {"detail"}
    assert isinstance(payload["detail"], str) and payload["detail"]
    assert counts() == before
    reference = create(api, ["moving-house"])["reference"]
    response = api.generic("PATCH", url(reference), body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def deeply_nested(depth: int) -> bytes:
    return b'{"services": ["start-business"], "answers": {"business.name": %s}}' % (
        b"[" * depth + b"]" * depth
    )


@pytest.mark.parametrize("depth", [100_000, 990, 900])
def test_deeply_nested_json_is_a_400_not_a_crash(catalog, api, depth):
    before = counts()
    body = deeply_nested(depth)
    response = api.generic("POST", APPLICATIONS_URL, body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) & {"detail", "errors"}
    assert counts() == before
    reference = create(api, ["start-business"])["reference"]
    response = api.generic("PATCH", url(reference), body, content_type="application/json")
    assert response.status_code == 400
    facts = b'{"facts": {"applicant.full_name": %s}}' % (b"[" * depth + b"]" * depth)
    response = api.generic("PATCH", PROFILE_URL, facts, content_type="application/json")
    assert response.status_code == 400


def test_a_null_character_in_an_answer_is_refused(catalog, api):
    # PostgreSQL cannot store U+0000 in JSON text: it must be refused, not crash the insert.
    before = counts()
    response = api.post(
        APPLICATIONS_URL,
        {"services": ["start-business"], "answers": {"business.name": "Nana\x00Dumplings"}},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["business.name"]
    assert counts() == before
    reference = create(api, ["start-business"], {"business.name": "Nana Dumplings"})["reference"]
    response = patch(api, reference, {"business.activity": "Dumplings\x00 and noodles."})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["business.activity"]
    assert api.get(url(reference)).json()["answers"] == {"business.name": "Nana Dumplings"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/applications/A-2222%002222/"),
        ("patch", "/api/v1/applications/A-2222%002222/"),
        ("post", "/api/v1/applications/A-2222%002222/submit/"),
        ("post", "/api/v1/applications/A-2222%002222/withdraw/"),
        ("post", "/api/v1/applications/A-2222%002222/attachments/"),
    ],
)
def test_a_null_character_in_a_reference_is_a_400(catalog, api, method, path):
    # Refused before any view runs (core.middleware.RejectNulMiddleware): bad input, not a 500.
    response = getattr(api, method)(path)
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_a_null_character_in_a_search_is_a_400_not_a_crash(catalog):
    response = APIClient().get(SERVICES_URL + "?q=busi%00ness")
    assert response.status_code == 400


# --- No query per row -----------------------------------------------------------------------------


def test_list_endpoints_make_no_query_per_row(catalog, api):
    def queries(client: APIClient, path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    create(api, ["newborn"])
    one = queries(api, APPLICATIONS_URL)
    for slugs in (["moving-house"], ["start-business", "moving-house"], ["newborn"]):
        create(api, slugs)
    assert queries(api, APPLICATIONS_URL) == one
    anonymous = APIClient()
    assert queries(anonymous, SERVICES_URL + "?q=business") == queries(anonymous, SERVICES_URL)
