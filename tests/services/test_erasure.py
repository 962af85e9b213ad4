"""Retention and erasure: closed applications lose their personal values, files and free text
(clerks' notes and reasons, questions, replies, file names) and keep a tombstone, and the reveal
purposes in the append-only audit log become unreadable (their data key is destroyed) while the
hash chain stays intact; and nowhere the project writes (every table, every file, and a
`pg_dump` of the database) holds a test citizen's national ID, phone, address, date of birth or
any of that free text in clear, before and after key rotation and erasure."""

import base64
import datetime as dt
import os
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from audit.actions import audit_seal
from audit.models import AuditEvent, DataKey
from audit.purposes import purpose_of
from audit.selectors import audit_verify
from privacy import crypto
from services import actions
from services.constants import ApplicationStatus
from services.models import Application, Attachment
from services.selectors import versions_published_for
from tests.data import LI_WEI_MOVING as MOVING
from tests.factories import UserFactory, newborn_draft
from tests.support import need
from workflows import actions as engine
from workflows import routing
from workflows.models import Case, CaseNote, InformationRequest

pytestmark = pytest.mark.django_db

SECRETS = {
    "applicant.national_id": "310104197903144175",
    "applicant.phone": "13987654321",
    "applicant.address": "上海市徐汇区漕溪北路88号",
    "applicant.date_of_birth": "1979-03-14",
}
PDF = b"%PDF-1.4\n% 310104197903144175\n%%EOF\n"  # a secret inside the file
# Free text that staff and the citizen write around the application: each one must be sealed
# at rest and gone (or unreadable) after erasure.
FREE_TEXT = {
    "question": "请提供漕溪北路租房合同 question-Q7",
    "reply": "房东是王芳 电话在合同上 reply-R9",
    "note": "Called the landlord Wang Fang note-N3",
    "approve note": "Tax record of Ouyang matches approve-A4",
    "reject reason": "Household record shows another address reject-X5",
    "file name": "ouyang-birth-certificate-name-F2.pdf",
    "purpose": "Checking the tax record of Ouyang purpose-P8",
}


def everything_written(media_root: Path) -> str:
    """Every row of every table, and every file under the media root, as one text."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608  (table names from introspection)
            parts += [repr(row) for row in cursor.fetchall()]
    for path in media_root.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def leaked(text: str) -> list[str]:
    return [k for k, v in {**SECRETS, **FREE_TEXT}.items() if v in text]


def pg_dump() -> str:
    """A plain `pg_dump` of the test database, as an attacker with a backup would read it."""
    need(shutil.which("pg_dump") is not None, "pg_dump is not installed")
    db = connection.settings_dict
    command = ["pg_dump", "--no-owner", "--no-privileges", "--dbname", db["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if db.get(key):
            command += [flag, str(db[key])]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    result = subprocess.run(command, env=env, capture_output=True, check=True, timeout=120)
    return result.stdout.decode("utf-8", errors="replace")


@pytest.fixture
def closed(demo, media):
    citizen = UserFactory()
    actions.profile_update(
        user=citizen, facts={k: SECRETS[k] for k in ("applicant.phone", "applicant.address")}
    )
    answers = {**MOVING, **SECRETS}
    application = actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["moving-house"]), answers=answers
    )
    newborn, _attachment = newborn_draft(citizen, file_name=FREE_TEXT["file name"], content=PDF)
    actions.application_submit(application=application, actor=citizen)
    routing.advance(application_id=application.pk)
    # The tax clerk asks, the citizen replies, the clerk notes, reveals and approves; the
    # household clerk rejects: every kind of free text, then the application is completed.
    case = application.cases.get(step="tax")
    clerk = User.objects.get(email="clerk.tax@demo.gov")
    engine.case_request_info(case=case, actor=clerk, message=FREE_TEXT["question"])
    engine.case_citizen_replied(case=case, citizen=citizen, message=FREE_TEXT["reply"])
    engine.case_note_add(case=case, actor=clerk, text=FREE_TEXT["note"])
    engine.case_reveal(
        case=case, actor=clerk, fields=["applicant.national_id"], purpose=FREE_TEXT["purpose"]
    )
    engine.case_approve(case=case, actor=clerk, note=FREE_TEXT["approve note"])
    household = application.cases.get(step="household")
    engine.case_reject(
        case=household,
        actor=User.objects.get(email="clerk.household-registration@demo.gov"),
        reason=FREE_TEXT["reject reason"],
    )
    actions.application_withdraw(application=newborn, actor=citizen)
    routing.advance(application_id=application.pk)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.COMPLETED
    return citizen, application, newborn


def free_text_shown(application: Application) -> dict[str, str]:
    """The free text as the portal shows it (clerk's case API, audit purpose), opened."""
    tax = application.cases.get(step="tax")
    api = APIClient()
    api.force_authenticate(User.objects.get(email="clerk.tax@demo.gov"))
    body = api.get(f"/api/v1/cases/{tax.reference}/").json()
    shown = {e["kind"]: e["text"] for e in body["timeline"] if e["text"]}
    reveal = AuditEvent.objects.get(action="pii.reveal", target_ref=tax.reference)
    return {**shown, "approve note": body["decision_note"], "purpose": purpose_of(reveal).text}


K1 = "k1:" + base64.b64encode(b"1" * 32).decode()
K2 = "k2:" + base64.b64encode(b"2" * 32).decode()


@pytest.fixture
def env_keys(monkeypatch):
    monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", K1)
    monkeypatch.setenv("PORTAL_BLIND_INDEX_KEY", base64.b64encode(b"b" * 32).decode())
    crypto.reset_keyring_cache()
    yield monkeypatch
    crypto.reset_keyring_cache()


def test_no_plaintext_anywhere_before_and_after_rotation(env_keys, closed, media):
    _citizen, application, newborn = closed
    shown = {
        "question": FREE_TEXT["question"],
        "reply": FREE_TEXT["reply"],
        "note": FREE_TEXT["note"],
        "approve note": FREE_TEXT["approve note"],
        "purpose": FREE_TEXT["purpose"],
    }
    assert free_text_shown(application) == shown  # written, and opened where it is shown
    assert Attachment.objects.get(application=newborn).name_plain == FREE_TEXT["file name"]
    assert leaked(everything_written(media)) == []
    reveal = AuditEvent.objects.get(action="pii.reveal")
    env_keys.setenv("PORTAL_ENCRYPTION_KEYS", f"{K1},{K2}")
    crypto.reset_keyring_cache()
    call_command("rotate_keys", stdout=StringIO())
    text = everything_written(media)
    assert leaked(text) == [] and "v1:k1:" not in text and "v1:k2:" in text
    # The audit event was not rewritten (the table refuses it): its data key was re-wrapped,
    # so the old key can go and every text still opens.
    assert AuditEvent.objects.get(pk=reveal.pk).purpose == reveal.purpose
    env_keys.setenv("PORTAL_ENCRYPTION_KEYS", K2)
    crypto.reset_keyring_cache()
    assert free_text_shown(application) == shown
    audit_seal()
    assert audit_verify()["valid"] is True


def test_erasure_leaves_only_a_tombstone(closed, media, django_capture_on_commit_callbacks):
    citizen, application, newborn = closed
    api = APIClient()
    api.force_authenticate(citizen)
    with django_capture_on_commit_callbacks(execute=True):  # files are deleted after the commit
        assert api.post(f"/api/v1/applications/{application.reference}/erase/").status_code == 200
        assert api.post(f"/api/v1/applications/{newborn.reference}/erase/").status_code == 200
    application.refresh_from_db()
    assert application.erased_at and application.national_id_index == ""
    assert set(application.answers) == {
        "move.date",
        "household.size",
        "household.has_vehicle",
        "household.has_school_children",
    }
    assert not Attachment.objects.filter(application=newborn).exists()
    assert not [p for p in media.rglob("*") if p.is_file()]
    assert application.cases.count() == 2  # the departments' statuses stay
    text = everything_written(media)
    for key, value in SECRETS.items():
        # Only the profile still holds the phone and address (sealed), never in clear.
        assert value not in text, key
    for value in FREE_TEXT.values():
        assert value not in text
    # Free text: the rows stay as tombstones, their text is gone.
    cases = Case.objects.filter(application=application)
    assert list(cases.values_list("decision_note", flat=True)) == ["", ""]
    assert list(
        InformationRequest.objects.filter(case__in=cases).values_list("message", "reply")
    ) == [("", "")]
    assert list(CaseNote.objects.filter(case__in=cases).values_list("text", flat=True)) == [""]
    # The reveal's audit event stays, unchanged; its purpose can no longer be read.
    reveal = AuditEvent.objects.get(action="pii.reveal")
    assert purpose_of(reveal).erased
    key = DataKey.objects.get(scope=f"application:{application.reference}")
    assert key.wrapped == "" and key.shredded_at is not None
    event = AuditEvent.objects.get(action="application.erase", target_ref=application.reference)
    assert "applicant.national_id" in event.details["fields"]
    assert event.details["texts"] == 4 and event.details["purpose_key_destroyed"] is True
    audit_seal()
    assert audit_verify()["valid"] is True  # the chain covers the token, which did not change
    # The citizen and the supervisor see that a purpose was given and erased.
    access = api.get("/api/v1/me/data-access/").json()["results"]
    (revealed,) = [r for r in access if r["action"] == "pii.reveal"]
    assert revealed["purpose_erased"] is True and revealed["purpose"] == "erased"
    supervisor = APIClient()
    supervisor.force_authenticate(User.objects.get(email="supervisor@demo.gov"))
    found = supervisor.get("/api/v1/audit/events/?action=pii.reveal").json()["results"]
    assert [(e["purpose"], e["purpose_erased"]) for e in found] == [("erased", True)]
    # Staff see the tombstone.
    client = APIClient()
    client.force_authenticate(User.objects.get(email="clerk.tax@demo.gov"))
    case = client.get(f"/api/v1/cases/{application.cases.get(step='tax').reference}/").json()
    personal = [row for row in case["answers"] if row["sensitivity"] != "public"]
    assert personal and all(row["value"] in ("", None) for row in personal)
    assert case["decision_note"] == ""
    texts = {e["kind"]: e["text"] for e in case["timeline"] if e["kind"] in ("question", "note")}
    assert texts == {"question": "erased", "note": "erased"}


def test_open_applications_cannot_be_erased(demo):
    citizen = UserFactory()
    application = actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["moving-house"])
    )
    with pytest.raises(actions.WrongState):
        actions.application_erase(application=application, actor=citizen, reason="test")


def test_nightly_retention_erases_only_what_expired(closed):
    _citizen, application, newborn = closed
    Application.objects.filter(pk=newborn.pk).update(
        withdrawn_at=timezone.now() - dt.timedelta(days=800)
    )
    assert actions.erase_expired() == 1
    assert Application.objects.get(pk=newborn.pk).erased_at is not None
    assert Application.objects.get(pk=application.pk).erased_at is None
    assert actions.erase_expired(now=timezone.now() + dt.timedelta(days=731)) == 1
    call_command("verify_audit", "--seal", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_plaintext_before_or_after_erasure(
    require_postgres, closed, media, django_capture_on_commit_callbacks
):
    _citizen, application, newborn = closed
    dump = pg_dump()
    # The dump holds the rows (sealed), so the search below looks at the real data.
    assert application.reference in dump and "pv1:" in dump and "v1:" in dump
    assert leaked(dump) == []
    with django_capture_on_commit_callbacks(execute=True):
        actions.application_erase(application=application, actor=None, reason="test")
        actions.application_erase(application=newborn, actor=None, reason="test")
    dump = pg_dump()
    assert "application.erase" in dump
    assert leaked(dump) == []
