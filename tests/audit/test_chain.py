"""The audit log is append-only in the database and hash-chained: verification names the first
event that was edited, deleted or inserted behind the application's back, and signed
checkpoints catch a rewrite of the whole table."""

import datetime
import itertools
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.actions import audit_checkpoint, audit_record, audit_seal
from audit.chain import GENESIS, link
from audit.models import AuditCheckpoint, AuditEvent
from audit.selectors import audit_verify

pytestmark = pytest.mark.django_db(transaction=True)


def record(n, **details):
    for i in range(n):
        with transaction.atomic():
            audit_record(action="user.update", actor=None, details={"i": i, **details})


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def chain():
    record(10)
    assert audit_seal() == 10
    return list(AuditEvent.objects.order_by("chain_seq"))


def test_sealing_links_every_event_in_order(chain):
    assert [e.chain_seq for e in chain] == list(range(1, 11))
    assert chain[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
    result = audit_verify()
    assert {k: result[k] for k in ("valid", "checked", "first_invalid", "reason", "unsealed")} == {
        "valid": True,
        "checked": 10,
        "first_invalid": None,
        "reason": "",
        "unsealed": 0,
    }
    assert audit_seal() == 0  # nothing sealed twice


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'forged' WHERE chain_seq = 3",
        "UPDATE audit_auditevent SET hash = '' , chain_seq = NULL WHERE chain_seq = 3",
        "DELETE FROM audit_auditevent WHERE chain_seq = 3",
        "UPDATE audit_auditcheckpoint SET head_hash = 'x'",
        "DELETE FROM audit_auditcheckpoint",
    ],
)
def test_the_database_refuses_changes(chain, sql):
    audit_checkpoint()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(sql)
    assert audit_verify()["valid"]


def test_the_database_refuses_truncate(chain, require_postgres):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("TRUNCATE audit_auditevent CASCADE")


def test_an_unsealed_event_cannot_be_sealed_with_changed_content():
    record(1)
    event = AuditEvent.objects.get()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(
            "UPDATE audit_auditevent SET chain_seq = 1, hash = 'x', action = 'forged' "
            "WHERE id = %s",
            [event.pk],
        )


@pytest.mark.parametrize("independent", [False, True], ids=["in-database", "independent"])
@pytest.mark.parametrize(
    "column, value",
    [
        ("purpose", lambda e: "edited later"),
        ("occurred_at", lambda e: e.occurred_at + datetime.timedelta(microseconds=1)),
        ("details", lambda e: json.dumps({"i": 99})),
        ("actor_role", lambda e: "admin"),
        ("ip", lambda e: "10.0.0.1"),
    ],
    ids=["purpose", "time", "details", "role", "ip"],
)
def test_an_edited_event_is_named(chain, as_owner, independent, column, value):
    raw(f"UPDATE audit_auditevent SET {column} = %s WHERE chain_seq = 4", [value(chain[3])])  # noqa: S608
    result = audit_verify(independent=independent)
    assert (result["valid"], result["first_invalid"]) == (False, chain[3].pk)
    assert "changed" in result["reason"]


def test_a_deleted_event_is_named_at_the_next_one(chain, as_owner):
    raw("DELETE FROM audit_auditevent WHERE chain_seq = 6")
    result = audit_verify()
    assert (result["valid"], result["first_invalid"]) == (False, chain[6].pk)
    assert "missing" in result["reason"]


def test_an_inserted_event_is_named(chain, as_owner):
    # A forged event squeezed in at position 5, correctly linked; its authenticator is made up,
    # since the key is not in the database.
    row = {
        **AuditEvent.objects.values().get(pk=chain[4].pk),
        "id": 10_000,
        "chain_seq": 5,
        "nonce": "f" * 32,
        "mac": chain[4].mac,  # a genuine authenticator, of another event
        "details": {"forged": True},
    }
    raw("UPDATE audit_auditevent SET chain_seq = chain_seq + 100 WHERE chain_seq >= 5")
    raw(
        "INSERT INTO audit_auditevent (id, chain_seq, occurred_at, action, actor_role, "
        "target_type, target_ref, purpose, request_id, source, details, nonce, mac, prev_hash, "
        "hash) VALUES (%s, 5, %s, %s, %s, '', '', '', %s, %s, %s, %s, %s, %s, %s)",
        [
            10_000,
            row["occurred_at"],
            row["action"],
            row["actor_role"],
            row["request_id"],
            row["source"],
            json.dumps(row["details"]),
            row["nonce"],
            row["mac"],
            chain[3].hash,
            link(chain[3].hash, row),
        ],
    )
    raw("UPDATE audit_auditevent SET chain_seq = chain_seq - 99 WHERE chain_seq >= 105")
    result = audit_verify()
    assert (result["valid"], result["first_invalid"]) == (False, 10_000)
    assert "authenticator" in result["reason"]


def relink(prev: str, after_seq: int) -> None:
    """Recompute every hash after `after_seq`, as someone who knows the (keyless) link rule."""
    events = AuditEvent.objects.filter(chain_seq__gt=after_seq).order_by("chain_seq").values()
    for event in events:
        digest = link(prev, event)
        raw(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev, digest, event["id"]],
        )
        prev = digest


def test_a_cut_and_relinked_table_is_caught_by_the_signed_checkpoint(chain, as_owner):
    audit_checkpoint(force=True)
    # Cut event 2 out and relink the rest: every authenticator and link holds...
    raw("DELETE FROM audit_auditevent WHERE chain_seq = 2")
    # In two steps: PostgreSQL checks the unique chain_seq row by row, in the heap's order,
    # which need not be chain order (a table that had many rows deleted reuses their space).
    raw("UPDATE audit_auditevent SET chain_seq = chain_seq + 1000000 WHERE chain_seq > 2")
    raw("UPDATE audit_auditevent SET chain_seq = chain_seq - 1000001 WHERE chain_seq > 1000000")
    relink(chain[0].hash, 1)
    assert audit_verify(exported=None)["checked"] == 9
    result = audit_verify()
    # ...but not against the checkpoint signed with a key the database does not hold.
    assert result["valid"] is False
    assert "checkpoint" in result["reason"]


def test_verify_audit_command_exit_status(chain, as_owner):
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact: 10 events" in out.getvalue()
    raw("UPDATE audit_auditevent SET action = 'x' WHERE chain_seq = 7")
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", stdout=StringIO(), stderr=StringIO())
    assert exit_info.value.code == 1


def test_checkpoints_export(chain):
    audit_checkpoint()
    out = StringIO()
    call_command("export_checkpoints", "--print", stdout=out)
    line = json.loads(out.getvalue().splitlines()[0])
    assert line["chain_seq"] == 10 and line["head_hash"] == chain[-1].hash
    assert AuditCheckpoint.objects.count() == 1


@pytest.mark.parametrize("position", [1, 5, 6, 10])
def test_a_chain_read_in_ranges_names_the_same_event(chain, as_owner, require_postgres, position):
    # Ten events in two ranges (1-5, 6-10) on their own connections: an edit at either end of
    # either range is named exactly as by the single walk.
    assert audit_verify(segment_size=3)["valid"]
    assert audit_verify(segment_size=3)["checked"] == 10
    raw("UPDATE audit_auditevent SET purpose = 'edited' WHERE chain_seq = %s", [position])
    result = audit_verify(segment_size=3)
    assert (result["valid"], result["first_invalid"]) == (False, chain[position - 1].pk)
    assert result == audit_verify(segment_size=0)


def test_a_deletion_at_a_range_boundary_is_named(chain, as_owner, require_postgres):
    raw("DELETE FROM audit_auditevent WHERE chain_seq = 6")  # the second range's first event
    result = audit_verify(segment_size=3)
    assert (result["valid"], result["first_invalid"]) == (False, chain[6].pk)
    assert "missing" in result["reason"]
