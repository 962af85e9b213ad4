"""Staff wording: clerks read staff labels (申请人姓名 / "Applicant's full name") on the case
page and in the case API, human event names on the case timeline and the audit pages, people
by name or email (never an id), department and step names in their language; citizens keep
the citizen's labels; "who looked at my data" names the fields and the department."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.utils import translation

from accounts.models import User
from audit.constants import AuditAction, event_name
from tests.factories import api_for, case_and_clerk
from workflows import actions
from workflows.selectors import shown_values

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def revealed_tax_case(demo):
    case, clerk = case_and_clerk()
    actions.case_claim(case=case, actor=clerk)
    actions.case_reveal(
        case=case, actor=clerk, fields=["applicant.national_id"], purpose="Matching the tax record"
    )
    return case.application, case


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_clerks_read_staff_labels_and_event_names_on_the_case_page(revealed_tax_case, client):
    _application, case = revealed_tax_case
    client.force_login(User.objects.get(email="clerk.tax@demo.gov"))
    page = text_of(client.get(f"/workbench/cases/{case.reference}/").content.decode())
    assert "Applicant's full name" in page and "Your full name" not in page
    assert "Case claimed" in page and "Personal data revealed" in page
    for code in ("case.claim", "pii.reveal", "case.create"):
        assert code not in page
    assert "Clerk (Tax Bureau)" in page  # the actor by name

    chinese = text_of(client.get(f"/workbench/cases/{case.reference}/", **ZH).content.decode())
    assert "申请人姓名" in chinese and "申请人公民身份号码" in chinese
    assert "税务局" in chinese and "税务地址变更" in chinese  # department and step
    assert "您的姓名" not in chinese


def test_the_case_api_gives_staff_labels_names_and_the_codes(revealed_tax_case):
    _application, case = revealed_tax_case
    api = api_for("clerk.tax@demo.gov")
    body = api.get(f"/api/v1/cases/{case.reference}/").json()
    labels = {a["key"]: a["label"] for a in body["answers"]}
    assert labels["applicant.full_name"] == "Applicant's full name"
    assert body["department"] == "tax" and body["department_name"] == "Tax Bureau"
    claim = next(e for e in body["timeline"] if e["kind"] == "case.claim")
    assert claim["name"] == "Case claimed"
    assert claim["by"] == "clerk.tax@demo.gov" and claim["by_name"] == "Clerk (Tax Bureau)"

    chinese = api.get(f"/api/v1/cases/{case.reference}/", **ZH).json()
    labels = {a["key"]: a["label"] for a in chinese["answers"]}
    assert labels["applicant.full_name"] == "申请人姓名"
    assert chinese["department_name"] == "税务局" and chinese["step_name"] == "税务地址变更"
    listed = api.get("/api/v1/cases/", **ZH).json()["results"]
    assert {c["step_name"] for c in listed} == {"税务地址变更"}


def test_citizens_keep_the_citizens_labels(revealed_tax_case, client):
    application, _case = revealed_tax_case
    client.force_login(application.citizen)
    page = client.get(f"/applications/{application.reference}/").content.decode()
    assert "Tax Bureau" in page
    assert "Applicant's" not in page
    chinese = client.get(f"/applications/{application.reference}/", **ZH).content.decode()
    assert "税务局" in chinese and "税务地址变更" in chinese


def test_every_audit_action_has_a_name_and_unknown_codes_are_not_shown():
    for action in AuditAction:
        assert event_name(action.value) and event_name(action.value) != action.value
    assert event_name("retired.code") == "Other event"


def test_audit_pages_api_and_csv_name_events_people_and_fields(revealed_tax_case, client):
    application, _case = revealed_tax_case
    supervisor = User.objects.get(email="supervisor@demo.gov")
    body = api_for(supervisor).get("/api/v1/audit/events/?action=pii.reveal").json()
    event = body["results"][0]
    assert event["actor"] == "clerk.tax@demo.gov" and event["actor_name"] == "Clerk (Tax Bureau)"
    assert event["subject"] == application.citizen_id  # the contract keeps the id
    assert event["subject_email"] == application.citizen.email
    assert event["department"] == "tax" and event["department_name"] == "Tax Bureau"
    assert event["action_label"] == "Personal data revealed"
    assert event["field_labels"] == ["Applicant's national ID number"]

    client.force_login(supervisor)
    history = text_of(client.get(f"/audit/applications/{application.reference}/").content.decode())
    assert "Application submitted" in history and "Personal data revealed" in history
    assert "application.submit" not in history and "pii.reveal" not in history
    assert "Clerk (Tax Bureau)" in history and "Applicant's national ID number" in history
    search = text_of(client.get("/audit/?action=pii.reveal").content.decode())
    assert "Applicant's national ID number" in search and "applicant.national_id" not in search

    export = client.get("/audit/export.csv?action=pii.reveal")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0]["actor_name"] == "Clerk (Tax Bureau)"
    assert rows[0]["action_label"] == "Personal data revealed"
    assert rows[0]["field_labels"] == "Applicant's national ID number"
    assert rows[0]["subject_email"] == application.citizen.email
    chinese = client.get("/audit/export.csv?action=pii.reveal", **ZH)
    rows = list(csv.DictReader(io.StringIO(b"".join(chinese.streaming_content).decode())))
    assert rows[0]["field_labels"] == "申请人公民身份号码"
    assert rows[0]["department_name"] == "税务局"


def test_who_looked_at_my_data_names_fields_and_departments(revealed_tax_case, client):
    application, _case = revealed_tax_case
    api = api_for(application.citizen)
    reveal = next(
        r
        for r in api.get("/api/v1/me/data-access/").json()["results"]
        if r["action"] == "pii.reveal"
    )
    assert reveal["fields"] == ["applicant.national_id"]  # the contract keeps the keys
    assert reveal["field_labels"] == ["Your national ID number"]
    assert reveal["department_name"] == "Tax Bureau" and reveal["staff"] == "Clerk (Tax Bureau)"
    chinese = next(
        r
        for r in api.get("/api/v1/me/data-access/", **ZH).json()["results"]
        if r["action"] == "pii.reveal"
    )
    assert chinese["field_labels"] == ["您的公民身份号码"]
    assert chinese["department_name"] == "税务局" and chinese["department"] == "税务局"

    client.force_login(application.citizen)
    page = text_of(client.get("/me/data-access/", **ZH).content.decode())
    assert "您的公民身份号码" in page and "税务局" in page
    assert "applicant.national_id" not in page and "staff #" not in page


def test_a_member_of_staff_without_a_name_is_shown_by_email(revealed_tax_case):
    application, _case = revealed_tax_case
    clerk = User.objects.get(email="clerk.tax@demo.gov")
    User.objects.filter(pk=clerk.pk).update(full_name="")
    rows = api_for(application.citizen).get("/api/v1/me/data-access/").json()["results"]
    assert {r["staff"] for r in rows} == {"clerk.tax@demo.gov"}


def test_revealed_choices_read_as_their_labels(catalog):
    values = {"child.sex": "female", "birth.claim_allowance": True, "applicant.full_name": "Li"}
    with translation.override("zh-hans"):
        assert shown_values(values)["child.sex"] == "女"
    with translation.override("en"):
        assert shown_values(values) == {
            "child.sex": "Female",
            "birth.claim_allowance": "Yes",
            "applicant.full_name": "Li",
        }
