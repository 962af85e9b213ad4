"""Retention and erasure: closed applications lose their personal values and files and keep a
tombstone; and nowhere the project writes (every table, every file) holds a test citizen's
national ID, phone, address or date of birth in clear, before and after key rotation."""

import base64
import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from audit import crypto
from audit.models import AuditEvent
from services import actions
from services.models import Application, Attachment
from services.selectors import versions_published_for
from tests.factories import UserFactory
from tests.workflows.conftest import MOVING, catalog  # noqa: F401  (fixture)
from workflows import actions as engine

pytestmark = pytest.mark.django_db

SECRETS = {
    "applicant.national_id": "310104197903144175",
    "applicant.phone": "13987654321",
    "applicant.address": "上海市徐汇区漕溪北路88号",
    "applicant.date_of_birth": "1979-03-14",
}
PDF = b"%PDF-1.4\n% 310104197903144175\n%%EOF\n"  # a secret inside the file


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
    return [k for k, v in SECRETS.items() if v in text]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def closed(catalog, media):  # noqa: F811
    citizen = UserFactory()
    actions.profile_update(
        user=citizen, facts={k: SECRETS[k] for k in ("applicant.phone", "applicant.address")}
    )
    answers = {**MOVING, **SECRETS}
    application = actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["moving-house"]), answers=answers
    )
    newborn = actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["newborn"])
    )
    actions.attachment_upload(
        application=newborn,
        actor=citizen,
        field_key="birth.certificate",
        upload=SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf"),
    )
    actions.application_submit(application=application, actor=citizen)
    engine.advance(application_id=application.pk)
    case = application.cases.get(step="tax")
    clerk = User.objects.get(email="clerk.tax@demo.gov")
    engine.case_reveal(
        case=case, actor=clerk, fields=["applicant.national_id"], purpose="Checking the record"
    )
    actions.application_withdraw(application=application, actor=citizen)
    actions.application_withdraw(application=newborn, actor=citizen)
    engine.advance(application_id=application.pk)
    return citizen, application, newborn


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
    assert leaked(everything_written(media)) == []
    env_keys.setenv("PORTAL_ENCRYPTION_KEYS", f"{K1},{K2}")
    crypto.reset_keyring_cache()
    call_command("rotate_keys", stdout=StringIO())
    text = everything_written(media)
    assert leaked(text) == [] and "v1:k1:" not in text and "v1:k2:" in text


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
    event = AuditEvent.objects.get(action="application.erase", target_ref=application.reference)
    assert "applicant.national_id" in event.details["fields"]
    # Staff see the tombstone.
    client = APIClient()
    client.force_authenticate(User.objects.get(email="clerk.tax@demo.gov"))
    case = client.get(f"/api/v1/cases/{application.cases.get(step='tax').reference}/").json()
    personal = [row for row in case["answers"] if row["sensitivity"] != "public"]
    assert personal and all(row["value"] in ("", None) for row in personal)


def test_open_applications_cannot_be_erased(catalog):  # noqa: F811
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
