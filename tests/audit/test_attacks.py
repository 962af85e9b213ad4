"""The audit log holds against someone with the application's database role: an event written
behind the portal's back is refused by the sealer, named by verification and never shown to a
citizen; a cut, a rollback or a rewrite of the chain or of its checkpoints is caught by the
checkpoints exported outside the database."""

import json
import os
import shutil
import stat
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from audit.actions import audit_checkpoint, audit_record, audit_seal
from audit.chain import link
from audit.constants import AuditAction
from audit.models import AuditCheckpoint, AuditEvent, AuditIncident, AuditIncidentKind
from audit.selectors import audit_verify
from audit.tasks import maintenance_seal_audit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def record(n, **fields):
    for i in range(n):
        with transaction.atomic():
            audit_record(action="user.update", actor=None, details={"i": i}, **fields)


@pytest.fixture
def exported(settings):
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def insert_like(event: AuditEvent, **changes) -> int:
    """INSERT a row that looks like `event` with `changes`, as the database role can."""
    row = AuditEvent.objects.values().get(pk=event.pk)
    row.update(id=None, chain_seq=None, prev_hash="", hash="", **changes)
    row.pop("id")
    row["details"] = json.dumps(row["details"])
    columns = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO audit_auditevent ({columns}) VALUES ({marks}) RETURNING id",  # noqa: S608
            list(row.values()),
        )
        return cursor.fetchone()[0]


# --- Forged events ----------------------------------------------------------------------------


@pytest.fixture
def citizen_and_clerk():
    citizen = UserFactory(email="c@example.test")
    clerk = UserFactory(email="k@example.test", full_name="Clerk Kent")
    with transaction.atomic():
        genuine = audit_record(
            action=AuditAction.PII_REVEAL,
            actor=clerk,
            subject=citizen,
            role="clerk",
            purpose="checking the address",
            details={"fields": ["applicant.address"]},
        )
    return citizen, clerk, genuine


@pytest.mark.parametrize(
    "changes",
    [
        {"nonce": "a" * 32, "mac": "", "purpose": "made up"},  # no authenticator at all
        {"nonce": "b" * 32, "purpose": "made up"},  # another event's authenticator
        {"nonce": "c" * 32, "mac": "a1:" + "0" * 64, "purpose": "made up"},  # a guessed one
    ],
    ids=["none", "borrowed", "guessed"],
)
def test_a_forged_reveal_is_refused_and_never_shown(citizen_and_clerk, changes):
    citizen, _clerk, genuine = citizen_and_clerk
    forged = insert_like(genuine, **changes)
    api = APIClient()
    api.force_authenticate(citizen)
    # Not shown even before the sealer has looked at it...
    purposes = [r["purpose"] for r in api.get("/api/v1/me/data-access/").json()["results"]]
    assert purposes == ["checking the address"]
    # ...and the sealer chains the genuine event only, and opens an incident for the other.
    assert audit_seal() == 1
    assert AuditEvent.objects.get(pk=forged).chain_seq is None
    incident = AuditIncident.objects.get(event_id=forged)
    assert incident.kind == AuditIncidentKind.FORGED_EVENT
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_INCIDENT).count() == 1
    assert audit_seal() == 1  # the incident's own event; the forged one is not tried again
    assert AuditIncident.objects.count() == 1
    result = audit_verify()
    assert (result["valid"], result["first_invalid"]) == (False, forged)
    assert "authenticator" in result["reason"]
    purposes = [r["purpose"] for r in api.get("/api/v1/me/data-access/").json()["results"]]
    assert purposes == ["checking the address"]
    browser = Client()
    browser.force_login(citizen)
    page = browser.get(reverse("audit:data-access"))
    assert page.status_code == 200
    assert "checking the address" in page.content.decode()
    assert "made up" not in page.content.decode()


def test_a_copy_of_a_genuine_event_is_refused_or_named(citizen_and_clerk, as_owner):
    _citizen, _clerk, genuine = citizen_and_clerk
    # Its nonce is unique: the database refuses an exact copy...
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_like(genuine)
    # ...and with the constraint dropped, verification names the copy.
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    unique = next(n for n, c in constraints.items() if c["unique"] and c["columns"] == ["nonce"])
    if connection.vendor == "postgresql":
        raw(f'ALTER TABLE {table} DROP CONSTRAINT "{unique}"')
    else:
        pytest.skip("SQLite cannot drop a unique constraint in place")
    copy = insert_like(genuine)
    audit_seal()
    result = audit_verify()
    assert (result["valid"], result["first_invalid"]) == (False, copy)
    assert "copy" in result["reason"]


def test_an_edited_authenticated_field_is_named(citizen_and_clerk, as_owner):
    _citizen, _clerk, genuine = citizen_and_clerk
    audit_seal()
    # Relinking after the edit does not help: the authenticator covers the body.
    raw("UPDATE audit_auditevent SET purpose = 'other' WHERE id = %s", [genuine.pk])
    event = AuditEvent.objects.values().get(pk=genuine.pk)
    raw(
        "UPDATE audit_auditevent SET hash = %s WHERE id = %s",
        [link(event["prev_hash"], event), genuine.pk],
    )
    for independent in (False, True):
        result = audit_verify(independent=independent)
        assert (result["valid"], result["first_invalid"]) == (False, genuine.pk)


# --- Checkpoints, exported -------------------------------------------------------------------


def test_checkpoints_are_made_every_n_events_or_m_seconds(settings, exported):
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 5
    settings.AUDIT_CHECKPOINT_SECONDS = 60
    now = timezone.now()
    assert audit_checkpoint(now=now) is None  # nothing to sign yet
    record(3)
    audit_seal()
    first = audit_checkpoint(now=now)
    assert (first.number, first.chain_seq) == (1, 3)
    record(2)
    audit_seal()
    assert audit_checkpoint(now=now + timedelta(seconds=10)) is None  # 2 events, 10 s
    record(3)
    audit_seal()
    second = audit_checkpoint(now=now + timedelta(seconds=11))  # 5 events since the first
    assert (second.number, second.chain_seq, second.prev_signature) == (2, 8, first.signature)
    record(1)
    audit_seal()
    assert audit_checkpoint(now=now + timedelta(seconds=70)) is None  # 60 s after the second? no
    third = audit_checkpoint(now=now + timedelta(seconds=72))
    assert (third.number, third.chain_seq) == (3, 9)
    files = sorted(p.name for p in exported.iterdir())
    assert files == ["000000000001.json", "000000000002.json", "000000000003.json"]
    assert not os.stat(exported / files[0]).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert json.loads((exported / files[1]).read_text())["head_hash"] == second.head_hash


def test_the_sealers_task_makes_and_exports_checkpoints(settings, exported):
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 4
    record(10)
    maintenance_seal_audit()
    assert list(AuditCheckpoint.objects.values_list("number", "chain_seq")) == [(1, 10)]
    assert [p.name for p in exported.iterdir()] == ["000000000001.json"]
    assert audit_verify()["exported_checkpoints"] == 1


@pytest.fixture
def checkpointed(exported):
    """15 events with checkpoints at 5 and 10 (exported), the last five after them."""
    for _ in range(3):
        record(5)
        audit_seal()
        if AuditEvent.objects.filter(chain_seq__isnull=False).count() <= 10:
            audit_checkpoint(force=True)
    assert audit_verify()["valid"]
    return list(AuditEvent.objects.order_by("chain_seq"))


def relink(after_seq: int) -> None:
    """Recompute positions and hashes after `after_seq`, as someone who knows the rule."""
    prev = AuditEvent.objects.get(chain_seq=after_seq).hash if after_seq else "0" * 64
    events = AuditEvent.objects.filter(chain_seq__gt=after_seq).order_by("chain_seq").values()
    for position, event in enumerate(list(events), start=after_seq + 1):
        event["chain_seq"] = position
        digest = link(prev, event)
        raw(
            "UPDATE audit_auditevent SET chain_seq = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [-event["id"], prev, digest, event["id"]],
        )
        raw("UPDATE audit_auditevent SET chain_seq = %s WHERE id = %s", [position, event["id"]])
        prev = digest


def test_a_tail_cut_back_past_a_checkpoint_is_caught(checkpointed, as_owner):
    raw("DELETE FROM audit_auditevent WHERE chain_seq > 8")
    # The database's checkpoint at 10 is gone too: the database alone would look intact.
    raw("DELETE FROM audit_auditcheckpoint WHERE chain_seq = 10")
    assert audit_verify(exported=None)["valid"]
    result = audit_verify()
    assert result["valid"] is False
    assert "not in the database" in result["reason"]


def test_events_removed_after_the_newest_exported_checkpoint_are_caught(checkpointed, as_owner):
    # Every event from 9 on is deleted: the signed head at 10 is longer than the chain.
    raw("DELETE FROM audit_auditevent WHERE chain_seq >= 9")
    result = audit_verify()
    assert result["valid"] is False
    assert "removed" in result["reason"]
    assert result["first_invalid"] == checkpointed[7].pk


def test_a_cut_in_the_middle_relinked_is_caught(checkpointed, as_owner):
    raw("DELETE FROM audit_auditevent WHERE chain_seq = 3")
    relink(2)
    raw("DELETE FROM audit_auditcheckpoint")
    result = audit_verify()
    assert result["valid"] is False
    assert "checkpoint" in result["reason"]


def test_a_missing_or_altered_export_is_caught(checkpointed, exported):
    first = exported / "000000000001.json"
    saved = first.read_bytes()
    first.unlink()
    result = audit_verify()
    assert result["valid"] is False and "checkpoint 1 is missing in the export" in result["reason"]
    data = json.loads(saved)
    data["head_hash"] = "0" * 64
    first.write_text(json.dumps(data))
    result = audit_verify()
    assert result["valid"] is False and "bad signature" in result["reason"]


def test_a_rolled_back_database_is_caught(checkpointed, exported, tmp_path, as_owner):
    # Restoring an older copy of the database: fewer checkpoints and events than exported.
    raw("DELETE FROM audit_auditcheckpoint WHERE number = 2")
    raw("DELETE FROM audit_auditevent WHERE chain_seq > 5")
    result = audit_verify()
    assert result["valid"] is False


def test_a_checkpoint_forged_in_the_database_is_caught(checkpointed, as_owner):
    head = AuditEvent.objects.order_by("-chain_seq").first()
    last = AuditCheckpoint.objects.order_by("-number").first()
    AuditCheckpoint.objects.create(
        number=last.number + 1,
        chain_seq=head.chain_seq,
        head_hash=head.hash,
        prev_signature=last.signature,
        signature="0" * 64,
        key_id=last.key_id,
    )
    result = audit_verify()
    assert result["valid"] is False and "bad signature" in result["reason"]


def test_verify_audit_command_compares_with_an_exported_folder(checkpointed, exported, tmp_path):
    copy = tmp_path / "kept-elsewhere"
    shutil.copytree(exported, copy)
    out = StringIO()
    call_command("verify_audit", "--checkpoints", str(copy), stdout=out)
    assert "2 exported ones agree" in out.getvalue()
    (copy / "000000000002.json").unlink()
    (copy / "000000000003.json").write_text("{}")
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", "--checkpoints", str(copy), stdout=out, stderr=StringIO())
    assert exit_info.value.code == 1
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", "--checkpoints", str(tmp_path / "nowhere"), stderr=StringIO())
    assert exit_info.value.code == 2


def test_an_export_that_disagrees_opens_an_incident(checkpointed, exported):
    # Someone rewrites the database's checkpoint 2 (and re-signs nothing): the exporter, which
    # never overwrites, reports the difference when it is handed over again.
    from audit.actions import audit_export_checkpoints

    path = exported / "000000000002.json"
    path.chmod(0o644)
    data = json.loads(path.read_text())
    data["head_hash"] = "f" * 64
    path.write_text(json.dumps(data))
    audit_export_checkpoints()
    assert AuditIncident.objects.filter(kind=AuditIncidentKind.EXPORT_MISMATCH).count() == 1
    audit_export_checkpoints()
    assert AuditIncident.objects.filter(kind=AuditIncidentKind.EXPORT_MISMATCH).count() == 1


def test_a_supervisor_sees_a_forged_event_flagged(citizen_and_clerk):
    _citizen, _clerk, genuine = citizen_and_clerk
    forged = insert_like(genuine, nonce="d" * 32, purpose="made up")
    supervisor = UserFactory(email="s@example.test", staff_role="supervisor")
    api = APIClient()
    api.force_authenticate(supervisor)
    rows = api.get("/api/v1/audit/events/?action=pii.reveal").json()["results"]
    assert {r["seq"]: r["authentic"] for r in rows} == {forged: False, genuine.pk: True}
    browser = Client()
    browser.force_login(supervisor)
    page = browser.get(reverse("audit:search") + "?action=pii.reveal").content.decode()
    assert page.count("Not written by the portal") == 1
