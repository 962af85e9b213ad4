"""Receipts and decision letters as PDF: a submitted application's receipt in the citizen's
language (reference, services, each department's part, the answers with personal values
masked, the date in Asia/Shanghai time), its verification code and QR code, the public
verification page (genuine, forged, altered), the upload check (a changed byte fails), the
owner-only download, the decision letter, and their audit events."""

from __future__ import annotations

import base64
import datetime
import io
import re

import pytest
from django.utils import dateformat, timezone, translation
from pypdf import PdfReader

from audit.models import AuditEvent
from privacy import keyring
from receipts import codes
from receipts.models import DocumentKind, IssuedDocument
from receipts.selectors import ZONE, when
from services.fields import kind_for
from services.selectors import application_versions, dictionary
from tests.data import LI_WEI_MOVING
from tests.factories import ApplicationFactory, CaseFactory, UserFactory, api_client

pytestmark = pytest.mark.django_db

NATIONAL_ID = LI_WEI_MOVING["applicant.national_id"]
PHONE = LI_WEI_MOVING["applicant.phone"]


def _text(pdf: bytes) -> str:
    """The PDF's text with every space and line break removed (lines wrap where they like)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _mask(key: str, value: str) -> str:
    return kind_for(dictionary()[key].type).mask(value)


def _receipt(client, application):
    return client.get(f"/applications/{application.reference}/receipt.pdf")


def _code(document: IssuedDocument) -> str:
    return codes.make(document.token, document.key_id)


@pytest.fixture
def chinese_citizen(catalog):
    citizen = UserFactory()
    citizen.language = "zh-hans"
    citizen.save(update_fields=["language"])
    return citizen


def test_a_chinese_receipt_shows_the_application_with_personal_values_masked(
    client, chinese_citizen
):
    application = ApplicationFactory(citizen=chinese_citizen, routed=True)
    client.force_login(chinese_citizen)
    response = _receipt(client, application)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _text(response.content)
    assert "申请回执" in text  # "Application receipt", the receipts' own Chinese
    assert application.reference in text
    with translation.override("zh-hans"):
        names = [v.service.name_translated for v in application_versions(application)]
    for name in names:
        assert re.sub(r"\s+", "", name) in text
    for case in application.cases.select_related("department"):
        assert re.sub(r"\s+", "", case.department.name) in text or case.department.translations
    # Personal values: masked as staff see them before a reveal, never in clear.
    assert NATIONAL_ID not in text and PHONE not in text
    assert _mask("applicant.national_id", NATIONAL_ID) in text
    assert _mask("applicant.phone", PHONE) in text
    # The date of submission in Asia/Shanghai time, written the Chinese way.
    submitted = timezone.localtime(application.submitted_at, ZONE)
    assert dateformat.format(submitted, "Y年n月j日H:i") in text
    # The verification code and the address the QR code points to.
    document = IssuedDocument.objects.get(application=application)
    assert document.kind == DocumentKind.RECEIPT and document.language == "zh-hans"
    assert _code(document) in text


def test_an_unchanged_receipt_is_the_same_document_and_is_issued_once(client, catalog):
    application = ApplicationFactory(routed=True)
    client.force_login(application.citizen)
    first, second = _receipt(client, application), _receipt(client, application)
    assert first.content == second.content
    assert IssuedDocument.objects.filter(application=application).count() == 1
    event = AuditEvent.objects.get(action="receipt.issue")
    assert event.target_ref == application.reference
    assert event.subject_id == application.citizen_id
    assert event.details["language"] == "en"


def test_the_receipt_is_in_the_active_language_when_the_citizen_chose_none(client, catalog):
    application = ApplicationFactory(routed=True)
    client.force_login(application.citizen)
    assert "Applicationreceipt" in _text(_receipt(client, application).content)
    client.cookies["django_language"] = "zh-hans"
    _receipt(client, application)
    assert set(IssuedDocument.objects.values_list("language", flat=True)) == {"en", "zh-hans"}


def test_only_the_owner_gets_the_receipt_and_a_draft_has_none(client, catalog):
    application = ApplicationFactory(submitted=True)
    url = f"/applications/{application.reference}/receipt.pdf"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    draft = ApplicationFactory()
    client.force_login(draft.citizen)
    refused = _receipt(client, draft)
    assert refused.status_code == 409
    assert "submit it first" in refused.content.decode()
    assert not IssuedDocument.objects.filter(application=draft).exists()


def test_the_receipt_is_linked_from_the_page_and_the_api(client, catalog):
    application = ApplicationFactory(routed=True)
    url = f"/applications/{application.reference}/receipt.pdf"
    client.force_login(application.citizen)
    assert f'href="{url}"' in client.get(f"/applications/{application.reference}/").content.decode()
    answer = api_client(application.citizen).get(f"/api/v1/applications/{application.reference}/")
    assert answer.json()["receipt_url"] == url
    draft = ApplicationFactory(citizen=application.citizen)
    answer = api_client(application.citizen).get(f"/api/v1/applications/{draft.reference}/")
    assert answer.json()["receipt_url"] is None


# --- Verification --------------------------------------------------------------------------


@pytest.fixture
def issued(client, catalog):
    """A routed application's receipt as its owner downloaded it: (document, PDF bytes)."""
    application = ApplicationFactory(routed=True)
    client.force_login(application.citizen)
    pdf = _receipt(client, application).content
    client.logout()
    return IssuedDocument.objects.get(application=application), pdf


def test_a_genuine_code_shows_what_the_receipt_shows_and_no_personal_value(client, issued):
    document, _pdf = issued
    response = client.get(f"/verify/{_code(document)}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Genuine document" in page
    assert document.application.reference in page
    for case in document.application.cases.select_related("department"):
        assert case.department.name in page
    for value in (NATIONAL_ID, PHONE, _mask("applicant.national_id", NATIONAL_ID), "Li Wei"):
        assert value not in page
    event = AuditEvent.objects.get(action="receipt.verify")
    assert event.actor_id is None and event.actor_role == "anonymous"
    assert event.details == {"document": document.pk, "kind": "receipt", "method": "code"}


def _altered(code: str, position: int) -> str:
    swapped = "A" if code[position] != "A" else "B"
    return code[:position] + swapped + code[position + 1 :]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda code: _altered(code, 0), id="token altered"),
        pytest.param(lambda code: _altered(code, len(code) - 1), id="signature altered"),
        pytest.param(
            lambda code: code.split(".")[0] + ".zz." + code.split(".")[2], id="unknown key"
        ),
        pytest.param(lambda code: "not-a-code", id="not a code"),
        pytest.param(
            lambda code: codes.make(codes.new_token(), code.split(".")[1]),
            id="signed but never issued",
        ),
    ],
)
def test_a_forged_or_altered_code_is_refused_with_a_clear_page(client, issued, forge):
    document, _pdf = issued
    response = client.get(f"/verify/{forge(_code(document))}")
    assert response.status_code == 400
    page = response.content.decode()
    assert "This document could not be verified" in page
    assert document.application.reference not in page
    assert not AuditEvent.objects.filter(action="receipt.verify").exists()


def test_the_verify_form_sends_a_code_to_its_page(client, issued):
    document, _pdf = issued
    assert client.get("/verify/").status_code == 200
    response = client.post("/verify/", {"code": f"  {_code(document)} "})
    assert response.status_code == 302 and response["Location"] == f"/verify/{_code(document)}"
    assert client.post("/verify/", {"code": "nonsense"}).status_code == 400


def test_an_uploaded_pdf_verifies_and_a_changed_byte_fails(client, issued):
    document, pdf = issued
    genuine = client.post("/verify/", {"document": io.BytesIO(pdf)}, format="multipart")
    assert genuine.status_code == 200
    assert document.application.reference in genuine.content.decode()
    assert AuditEvent.objects.get(action="receipt.verify").details["method"] == "file"
    middle = len(pdf) // 2
    changed = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
    upload = io.BytesIO(changed)
    upload.name = "receipt.pdf"
    refused = client.post("/verify/", {"document": upload})
    assert refused.status_code == 400
    assert "changed after it was issued" in refused.content.decode()


def test_a_code_signed_under_a_retired_key_still_verifies(client, issued, monkeypatch):
    document, _pdf = issued
    code = _code(document)
    old_kid, old_key = keyring.signing_key()
    monkeypatch.setenv(
        "PORTAL_AUDIT_OLD_SIGNING_KEYS", f"{old_kid}:{base64.b64encode(old_key).decode()}"
    )
    monkeypatch.setenv("PORTAL_AUDIT_SIGNING_KEY", "r2:" + base64.b64encode(b"\x07" * 32).decode())
    keyring.clear_signing_keys()
    try:
        assert codes.current_key_id() == "r2"
        assert client.get(f"/verify/{code}").status_code == 200
    finally:
        monkeypatch.undo()
        keyring.clear_signing_keys()


# --- Decision letters ----------------------------------------------------------------------


def test_a_decision_produces_a_letter_for_the_citizen(client, catalog):
    case = CaseFactory(rejected=True, reason="缺少租赁合同")
    application = case.application
    citizen = application.citizen
    citizen.language = "zh-hans"
    citizen.save(update_fields=["language"])
    url = f"/applications/{application.reference}/decisions/{case.reference}.pdf"
    client.force_login(citizen)
    assert f'href="{url}"' in client.get(f"/applications/{application.reference}/").content.decode()
    api = api_client(citizen).get(f"/api/v1/applications/{application.reference}/").json()
    letters = {c["reference"]: c["letter_url"] for c in api["cases"]}
    assert letters[case.reference] == url
    assert sum(1 for u in letters.values() if u) == 1  # the other parts are not decided
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _text(response.content)
    assert "决定书" in text and case.reference in text and "缺少租赁合同" in text
    assert client.get(f"/applications/{application.reference}/decisions/{case.pk}.pdf").content
    event = AuditEvent.objects.get(action="letter.issue")
    assert event.details["case"] == case.reference
    document = IssuedDocument.objects.get(kind=DocumentKind.LETTER)
    client.logout()
    page = client.get(f"/verify/{_code(document)}").content.decode()
    assert case.reference in page and "缺少租赁合同" not in page


def test_an_undecided_part_has_no_letter_and_others_get_none(client, catalog):
    case = CaseFactory(approved=True)
    application = case.application
    open_case = application.cases.exclude(pk=case.pk).first()
    client.force_login(application.citizen)
    base = f"/applications/{application.reference}/decisions/"
    assert client.get(f"{base}{open_case.reference}.pdf").status_code == 404
    assert client.get(f"{base}{case.reference}.pdf").status_code == 200
    client.force_login(UserFactory())
    assert client.get(f"{base}{case.reference}.pdf").status_code == 404


@pytest.mark.parametrize(
    ("language", "written"),
    [("zh-hans", "2026年12月2日 14:30"), ("en", "2 December 2026, 14:30")],
)
def test_the_date_on_paper_is_shanghai_time_in_the_language_s_usual_form(language, written):
    moment = datetime.datetime(2026, 12, 2, 6, 30, tzinfo=datetime.UTC)  # 14:30 in Shanghai
    with translation.override(language):
        assert when(moment) == written
