"""Free text that may hold personal data is sealed at rest (docs/personal-data.md).

Covers the requirements that clerks' notes, approval notes and rejection reasons, questions to
the citizen, the citizen's replies, attachment file names and reveal purposes are stored as
AES-256-GCM tokens bound to their row (the purpose under the application's data key, inside the
append-only audit log); that every place showing them (workbench, citizen pages and API,
supervisor search, history, CSV and the citizen's data-access page) shows them opened; that a
wrong key, a token moved to another row, or clear text slipped into a sealed column fails loudly
instead of being shown; and that the migration and `rotate_keys` seal values stored in clear
before.
"""

from __future__ import annotations

import base64
import csv
import importlib
import io
import json
import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from accounts.models import User
from audit import presenters
from audit.actions import audit_record
from audit.models import AuditEvent, DataKey
from audit.purposes import is_sealed_purpose, purpose_of
from privacy import crypto
from privacy.crypto import DecryptionError
from services import actions as services
from services.models import Attachment
from tests.factories import ApplicationFactory, UserFactory, api_for, newborn_draft
from workflows import actions, routing
from workflows import selectors as workbench
from workflows.models import Case, CaseNote, InformationRequest

pytestmark = pytest.mark.django_db

QUESTION = "请上传租房合同 房东王芳 question-Q1"
REPLY = "合同在王芳那里 下周上传 reply-R1"
NOTE = "Landlord Wang Fang confirmed by phone note-N1"
APPROVE = "Matches the tax record of Li Wei approve-A1"
REASON = "Li Wei is registered at another address reason-X1"
PURPOSE = "Matching the tax record of Li Wei purpose-P1"
FILE_NAME = "li-wei-birth-certificate-F1.pdf"
PDF = b"%PDF-1.4\n%%EOF\n"


TOKEN = re.compile(r"p?v1:[A-Za-z0-9_-]{1,18}:[A-Za-z0-9_-]{20,}")


def shown(text: str) -> str:
    """What a page or response shows, checked to hold no sealed token (a reader that forgot to
    open a value would show one)."""
    assert not TOKEN.search(text), TOKEN.search(text).group(0)
    return text


def user(email: str) -> User:
    return User.objects.get(email=email)


@pytest.fixture
def free_text_written(demo):
    """A question, a reply, a note, a reveal and an approval on the tax case; a rejection on the
    household case; a draft with a file."""
    application = ApplicationFactory(routed=True)
    tax, household = application.cases.get(step="tax"), application.cases.get(step="household")
    clerk = user("clerk.tax@demo.gov")
    actions.case_request_info(case=tax, actor=clerk, message=QUESTION)
    actions.case_citizen_replied(case=tax, citizen=application.citizen, message=REPLY)
    actions.case_note_add(case=tax, actor=clerk, text=NOTE)
    actions.case_reveal(case=tax, actor=clerk, fields=["applicant.national_id"], purpose=PURPOSE)
    actions.case_approve(case=tax, actor=clerk, note=APPROVE)
    household_clerk = user("clerk.household-registration@demo.gov")
    actions.case_reject(case=household, actor=household_clerk, reason=REASON)
    draft, _attachment = newborn_draft(application.citizen, file_name=FILE_NAME, content=PDF)
    return application, Case.objects.get(pk=tax.pk), Case.objects.get(pk=household.pk), draft


def test_every_free_text_column_holds_a_token_bound_to_its_row(free_text_written):
    _application, tax, household, draft = free_text_written
    request = InformationRequest.objects.get(case=tax)
    note = CaseNote.objects.get(case=tax)
    attachment = Attachment.objects.get(application=draft)
    stored = {
        "decision_note": tax.decision_note,
        "reason": household.decision_note,
        "message": request.message,
        "reply": request.reply,
        "note": note.text,
        "file name": attachment.original_name,
    }
    for name, value in stored.items():
        assert crypto.is_encrypted(value), name
    reveal = AuditEvent.objects.get(action="pii.reveal")
    assert is_sealed_purpose(reveal.purpose) and "Matching" not in reveal.purpose
    # Opened where they are read.
    assert (tax.decision_note_plain, household.decision_note_plain) == (APPROVE, REASON)
    assert (request.message_plain, request.reply_plain) == (QUESTION, REPLY)
    assert note.text_plain == NOTE and attachment.name_plain == FILE_NAME
    assert purpose_of(reveal).text == PURPOSE


def test_staff_and_the_citizen_see_the_text_opened(free_text_written, client):
    application, tax, _household, draft = free_text_written
    case = api_for("clerk.tax@demo.gov").get(f"/api/v1/cases/{tax.reference}/").json()
    shown(json.dumps(case, ensure_ascii=False))
    assert case["decision_note"] == APPROVE
    texts = {e["kind"]: e["text"] for e in case["timeline"] if e["text"]}
    assert texts == {"question": QUESTION, "reply": REPLY, "note": NOTE}
    client.force_login(user("clerk.tax@demo.gov"))
    page = shown(client.get(f"/workbench/cases/{tax.reference}/").content.decode())
    assert NOTE in page and REPLY in page
    # The citizen: the rejection reason on the application page, the file name in the API.
    client.force_login(application.citizen)
    page = shown(client.get(f"/applications/{application.reference}/").content.decode())
    assert REASON in page
    body = api_for(application.citizen).get(f"/api/v1/applications/{draft.reference}/").json()
    assert [a["name"] for a in body["attachments"]] == [FILE_NAME]
    page = shown(client.get(f"/applications/{draft.reference}/form/birth/").content.decode())
    assert FILE_NAME in page
    review = shown(client.get(f"/applications/{draft.reference}/review/").content.decode())
    assert FILE_NAME in review
    export = api_for(application.citizen).get("/api/v1/me/export/").json()
    assert FILE_NAME in shown(json.dumps(export, ensure_ascii=False))


def test_an_open_question_is_shown_to_the_citizen_opened(demo, client):
    application = ApplicationFactory(routed=True)
    tax = application.cases.get(step="tax")
    actions.case_request_info(case=tax, actor=user("clerk.tax@demo.gov"), message=QUESTION)
    body = api_for(application.citizen).get(f"/api/v1/applications/{application.reference}/")
    assert [q["message"] for q in body.json()["information_requests"]] == [QUESTION]
    client.force_login(application.citizen)
    assert QUESTION in client.get(f"/applications/{application.reference}/").content.decode()
    client.force_login(user("clerk.tax@demo.gov"))
    assert QUESTION in client.get(f"/workbench/cases/{tax.reference}/").content.decode()


def test_supervisor_views_show_the_purpose_opened(free_text_written, client):
    application, _tax, _household, _draft = free_text_written
    client.force_login(user("supervisor@demo.gov"))
    assert PURPOSE in shown(client.get("/audit/?action=pii.reveal").content.decode())
    history = shown(client.get(f"/audit/applications/{application.reference}/").content.decode())
    assert PURPOSE in history
    content = b"".join(client.get("/audit/export.csv?action=pii.reveal").streaming_content)
    rows = list(csv.DictReader(io.StringIO(shown(content.decode()))))
    assert [r["purpose"] for r in rows] == [PURPOSE]
    client.force_login(application.citizen)
    assert PURPOSE in shown(client.get("/me/data-access/").content.decode())
    api = api_for(application.citizen)
    access = shown(json.dumps(api.get("/api/v1/me/data-access/").json(), ensure_ascii=False))
    assert PURPOSE in access
    events = api_for("supervisor@demo.gov").get("/api/v1/audit/events/?action=pii.reveal")
    assert PURPOSE in shown(json.dumps(events.json(), ensure_ascii=False))


def test_a_token_moved_to_another_row_fails_loudly(free_text_written):
    _application, tax, _household, _draft = free_text_written
    first = CaseNote.objects.get(case=tax)
    second = actions.case_note_add(case=tax, actor=user("clerk.tax@demo.gov"), text="second")
    CaseNote.objects.filter(pk=second.pk).update(text=first.text)
    with pytest.raises(DecryptionError):
        workbench.case_timeline(case=tax)
    # A purpose copied into an event about another case (audit rows can only be added).
    other = ApplicationFactory(routed=True)
    stolen = AuditEvent.objects.get(action="pii.reveal").purpose
    from django.db import transaction

    with transaction.atomic():
        forged = audit_record(
            action="pii.reveal", actor=None, target=other.cases.get(step="tax"), purpose=stolen
        )
    with pytest.raises(DecryptionError):
        presenters.event_rows([forged])


def test_clear_text_slipped_into_a_sealed_column_is_never_shown(free_text_written):
    _application, tax, _household, _draft = free_text_written
    InformationRequest.objects.filter(case=tax).update(reply="forged clear reply")
    with pytest.raises(DecryptionError):
        workbench.case_timeline(case=tax)


def test_a_wrong_key_fails_loudly_instead_of_showing_ciphertext_or_blanks(
    free_text_written, monkeypatch
):
    _application, tax, _household, _draft = free_text_written
    reveal = AuditEvent.objects.get(action="pii.reveal")
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", "k1:" + base64.b64encode(b"9" * 32).decode())
    monkeypatch.setenv("PORTAL_BLIND_INDEX_KEY", base64.b64encode(b"b" * 32).decode())
    crypto.reset_keyring_cache()
    try:
        with pytest.raises(DecryptionError):
            workbench.case_timeline(case=tax)
        with pytest.raises(DecryptionError):
            assert Case.objects.get(pk=tax.pk).decision_note_plain is None
        with pytest.raises(DecryptionError):
            presenters.event_rows([reveal])
        with pytest.raises(DecryptionError):
            presenters.access_rows([reveal])
    finally:
        crypto.reset_keyring_cache()


def test_a_missing_data_key_fails_loudly(free_text_written):
    reveal = AuditEvent.objects.get(action="pii.reveal")
    DataKey.objects.all().delete()
    with pytest.raises(DecryptionError):
        presenters.event_rows([reveal])


def test_a_purpose_recorded_before_sealing_is_shown_as_it_was(free_text_written):
    _application, tax, _household, _draft = free_text_written
    from django.db import transaction

    with transaction.atomic():
        old = audit_record(action="pii.reveal", actor=None, target=tax, purpose="Old clear text")
    assert presenters.event_rows([old])[0]["purpose"] == "Old clear text"


def test_no_reveal_or_note_once_the_application_was_erased(free_text_written):
    application, tax, _household, _draft = free_text_written
    routing.advance(application_id=application.pk)
    services.application_erase(application=application, actor=None, reason="test")
    clerk = user("clerk.tax@demo.gov")
    with pytest.raises(actions.CaseError):
        actions.case_reveal(
            case=tax, actor=clerk, fields=["applicant.national_id"], purpose=PURPOSE
        )
    with pytest.raises(actions.CaseError):
        actions.case_note_add(case=tax, actor=clerk, text=NOTE)
    assert list(CaseNote.objects.filter(case=tax).values_list("text", flat=True)) == [""]


def _store_clear(tax: Case, household: Case, draft) -> None:
    """Free text as it was stored before sealing existed."""
    Case.objects.filter(pk=tax.pk).update(decision_note=APPROVE)
    Case.objects.filter(pk=household.pk).update(decision_note=REASON)
    InformationRequest.objects.filter(case=tax).update(message=QUESTION, reply=REPLY)
    CaseNote.objects.filter(case=tax).update(text=NOTE)
    Attachment.objects.filter(application=draft).update(original_name=FILE_NAME)


def _assert_sealed_and_opened(tax: Case, household: Case, draft) -> None:
    tax, household = Case.objects.get(pk=tax.pk), Case.objects.get(pk=household.pk)
    request = InformationRequest.objects.get(case=tax)
    note = CaseNote.objects.get(case=tax)
    attachment = Attachment.objects.get(application=draft)
    for value in (
        tax.decision_note,
        household.decision_note,
        request.message,
        request.reply,
        note.text,
        attachment.original_name,
    ):
        assert crypto.is_encrypted(value)
    assert (tax.decision_note_plain, household.decision_note_plain) == (APPROVE, REASON)
    assert (request.message_plain, request.reply_plain, note.text_plain) == (QUESTION, REPLY, NOTE)
    assert attachment.name_plain == FILE_NAME


def test_the_migrations_seal_text_stored_in_clear(free_text_written):
    _application, tax, household, draft = free_text_written
    _store_clear(tax, household, draft)
    workflows_migration = importlib.import_module("workflows.migrations.0006_seal_free_text")
    services_migration = importlib.import_module("services.migrations.0006_attachment_name_sealed")
    workflows_migration.seal_clear_text(apps, None)
    services_migration.seal_clear_names(apps, None)
    _assert_sealed_and_opened(tax, household, draft)
    before = Case.objects.get(pk=tax.pk).decision_note
    workflows_migration.seal_clear_text(apps, None)  # a second run changes nothing
    assert Case.objects.get(pk=tax.pk).decision_note == before


def test_rotate_keys_seals_text_stored_in_clear(free_text_written):
    _application, tax, household, draft = free_text_written
    _store_clear(tax, household, draft)
    UserFactory()  # unrelated rows are left alone
    call_command("rotate_keys", stdout=StringIO())
    _assert_sealed_and_opened(tax, household, draft)
