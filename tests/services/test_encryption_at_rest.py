"""Personal data at rest: answers and profile facts are sealed in the database.

Covers the requirements that no personal value (name, national ID, phone, address, ...) is
readable in the raw rows of applications, profiles or the audit log, while public answers stay
queryable; that an application is found by the blind index of a national ID; and that a sealed
value copied to another row or field fails loudly instead of being shown.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from audit.models import AuditEvent
from privacy.crypto import DecryptionError, blind_index, is_encrypted
from services import actions
from services.models import Application, CitizenProfile
from services.selectors import versions_published_for
from tests.data import (
    APPLICANT,
    MOVING,
    NATIONAL_ID,
    NEWBORN,
    OTHER_NATIONAL_ID,
    PDF,
)

pytestmark = pytest.mark.django_db

EMAIL = "nana.ouyang@example.net"
PLATE = "京A12345"
CHILD_NAME = "Ouyang Xiaogang"
ANSWERS: dict[str, Any] = {
    **MOVING,
    "applicant.email": EMAIL,
    "household.has_vehicle": True,
    "vehicle.plate": PLATE,
    "household.has_school_children": True,
    "school.child_name": CHILD_NAME,
    "school.grade": "primary-3",
}
PERSONAL = [
    APPLICANT["applicant.full_name"],
    NATIONAL_ID,
    APPLICANT["applicant.phone"],
    APPLICANT["applicant.address"],
    APPLICANT["applicant.date_of_birth"],
    MOVING["move.new_address"],
    EMAIL,
    PLATE,
    CHILD_NAME,
]


def spellings(value: str) -> set[str]:
    """The ways a value can appear in stored JSON text (plain, and with \\u escapes)."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


def as_text(value: Any) -> str:
    # SQLite hands back JSON columns as text; a PostgreSQL driver may decode them first.
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode(errors="replace")
    return str(value)


def raw_rows(sql: str, params: list[Any] | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def assert_no_personal_value(text: str, where: str) -> None:
    for value in PERSONAL:
        for spelling in spellings(value):
            assert spelling not in text, f"{value!r} readable in {where}"


def the_sealed_row(table: str, column: str) -> str:
    """The table's only row: neither `column` nor the national-id index holds a personal
    value in any spelling; returns the column as text."""
    rows = raw_rows(f"SELECT {column}, national_id_index FROM {table}")  # noqa: S608
    assert len(rows) == 1
    text, index = as_text(rows[0][0]), rows[0][1]
    assert_no_personal_value(text, f"{table}.{column}")
    assert_no_personal_value(index, f"{table}.national_id_index")
    return text


def start(citizen, slugs: list[str], answers: dict[str, Any]) -> Application:
    return actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=slugs), answers=answers
    )


@pytest.fixture
def submitted(catalog, citizen) -> Application:
    """A profile and a submitted moving-house application, made as the citizen would."""
    actions.profile_update(
        user=citizen,
        facts={k: ANSWERS[k] for k in (*APPLICANT, "applicant.email")},
    )
    application = start(citizen, ["moving-house"], {"household.size": 2})
    actions.application_update_answers(application=application, actor=citizen, answers=ANSWERS)
    return actions.application_submit(application=application, actor=citizen)


def test_no_personal_value_is_readable_in_the_application_row(submitted):
    answers = the_sealed_row("services_application", "answers")
    # Public answers stay in clear (and prove the search above looks at the real text).
    stored = json.loads(answers)
    assert stored["household.size"] == 4
    assert stored["move.date"] == "2026-12-15"
    assert stored["school.grade"] == "primary-3"
    assert "2026-12-15" in answers
    for key in ("applicant.full_name", "applicant.national_id", "vehicle.plate"):
        assert is_encrypted(stored[key]), key
    # The owner still reads every answer in clear.
    assert actions.application_answers(submitted) == ANSWERS


def test_no_personal_value_is_readable_in_the_profile_row(submitted):
    data = the_sealed_row("services_citizenprofile", "data")
    assert set(json.loads(data)) == {*APPLICANT, "applicant.email"}


def test_a_draft_is_sealed_too(catalog, citizen):
    start(citizen, ["newborn"], NEWBORN)
    (answers,) = raw_rows("SELECT answers FROM services_application")[0]
    text = as_text(answers)
    for value in (*PERSONAL[:5], NEWBORN["parent.full_name"], OTHER_NATIONAL_ID):
        for spelling in spellings(value):
            assert spelling not in text, value
    assert NEWBORN["birth.hospital"] in text  # public


def test_an_application_is_found_by_the_blind_index_of_a_national_id(submitted, other_citizen):
    other = start(other_citizen, ["moving-house"], {"applicant.national_id": OTHER_NATIONAL_ID})
    index = blind_index(NATIONAL_ID, purpose="national_id")
    ((stored_index,),) = raw_rows(
        "SELECT national_id_index FROM services_application WHERE reference = %s",
        [submitted.reference],
    )
    assert stored_index == index
    assert list(Application.objects.filter(national_id_index=index)) == [submitted]
    other_index = blind_index(OTHER_NATIONAL_ID, purpose="national_id")
    assert list(Application.objects.filter(national_id_index=other_index)) == [other]
    assert CitizenProfile.objects.get(national_id_index=index).user == submitted.citizen


def test_the_blind_index_follows_a_corrected_national_id(catalog, citizen):
    application = start(citizen, ["moving-house"], {"applicant.national_id": NATIONAL_ID})
    actions.application_update_answers(
        application=application,
        actor=citizen,
        answers={"applicant.national_id": OTHER_NATIONAL_ID},
    )
    assert not Application.objects.filter(
        national_id_index=blind_index(NATIONAL_ID, purpose="national_id")
    ).exists()
    found = Application.objects.get(
        national_id_index=blind_index(OTHER_NATIONAL_ID, purpose="national_id")
    )
    assert found == application
    actions.application_update_answers(
        application=application, actor=citizen, answers={"applicant.national_id": None}
    )
    application.refresh_from_db()
    assert application.national_id_index == ""


def test_a_sealed_value_copied_to_another_application_fails_loudly(submitted, other_citizen):
    victim = start(other_citizen, ["moving-house"], {"applicant.full_name": "Zhang Min"})
    stolen = Application.objects.get(pk=submitted.pk).answers["applicant.full_name"]
    stored = Application.objects.get(pk=victim.pk).answers
    Application.objects.filter(pk=victim.pk).update(
        answers={**stored, "applicant.full_name": stolen}
    )
    victim.refresh_from_db()
    with pytest.raises(DecryptionError):
        actions.application_answers(victim)
    # The original row still opens: the token is bound to its row, not broken.
    assert actions.application_answers(submitted)["applicant.full_name"] == "Ouyang Nana"


def test_a_sealed_value_moved_to_another_field_fails_loudly(submitted):
    stored = Application.objects.get(pk=submitted.pk).answers
    Application.objects.filter(pk=submitted.pk).update(
        answers={**stored, "applicant.address": stored["applicant.national_id"]}
    )
    submitted.refresh_from_db()
    with pytest.raises(DecryptionError):
        actions.application_answers(submitted)


def test_the_audit_log_holds_no_personal_value(submitted, citizen):
    draft = start(citizen, ["newborn"], NEWBORN)
    actions.attachment_upload(
        application=draft,
        actor=citizen,
        field_key="birth.certificate",
        upload=SimpleUploadedFile("certificate.pdf", PDF),
    )
    actions.application_withdraw(application=draft, actor=citizen)
    events = list(AuditEvent.objects.filter(subject=citizen).order_by("id"))
    assert {e.action for e in events} >= {
        "profile.update",
        "application.create",
        "application.update",
        "application.submit",
        "attachment.upload",
        "application.withdraw",
    }
    details = json.dumps([e.details for e in events], ensure_ascii=False)
    assert_no_personal_value(details, "audit details")
    assert_no_personal_value(json.dumps([e.details for e in events]), "audit details")
    # The events name the fields that changed, which is what an investigator needs.
    update = next(e for e in events if e.action == "application.update")
    assert "vehicle.plate" in update.details["fields"]
    # And no other column of the audit table carries them either.
    for row in raw_rows("SELECT * FROM audit_auditevent"):
        assert_no_personal_value(" ".join(as_text(c) for c in row), "audit row")
