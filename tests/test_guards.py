"""The append-only guards (`core.guards`): every guard trigger in the database belongs to a
registered guard (so the test flush, which lifts the registered ones, can empty every table),
and lifting them lets the database owner change rows that are refused otherwise."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.actions import audit_record
from audit.constants import AuditAction
from audit.models import AuditEvent
from core import guards


def _guard_triggers() -> set[tuple[str, str]]:
    """(table, trigger) of the refusing triggers in the database, by the guards' naming."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
            )
            suffixes = ("_guard", "_no_truncate")
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            suffixes = ("_no_update", "_no_delete")
        return {(table, name) for table, name in cursor.fetchall() if name.endswith(suffixes)}


def _registered_triggers() -> set[tuple[str, str]]:
    suffixes = (
        ("guard", "no_truncate")
        if connection.vendor == "postgresql"
        else ("no_update", "no_delete")
    )
    return {
        (table.table, f"{table.prefix}_{suffix}")
        for guard in guards.registered()
        for table in guard.tables
        for suffix in suffixes
    }


@pytest.mark.django_db
def test_every_guard_trigger_belongs_to_a_registered_guard() -> None:
    assert {g.name for g in guards.registered()} >= {"audit", "opendata"}
    assert _guard_triggers() == _registered_triggers()


@pytest.mark.django_db
def test_lifted_guards_let_the_owner_delete_and_come_back() -> None:
    audit_record(action=AuditAction.ACCOUNT_LOGIN_FAILED, actor=None)
    statement = "DELETE FROM audit_auditevent"
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    with guards.lifted(connection), connection.cursor() as cursor:
        assert _guard_triggers().isdisjoint(_registered_triggers())
        cursor.execute(statement)
    assert _guard_triggers() == _registered_triggers()
    assert not AuditEvent.objects.exists()
    audit_record(action=AuditAction.ACCOUNT_LOGIN_FAILED, actor=None)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
