"""Seed once, restore many times: the rows a seeding function writes, kept and copied back.

`Snapshot.capture(seed)` runs `seed` (the real actions, audit events included) in a transaction
on a clean test database, reads back every row it inserted, table by table, and rolls the
transaction back. `restore()` writes those rows again, byte for byte and with the same primary
keys, in the caller's transaction: PostgreSQL `COPY ... FROM STDIN` with the text `COPY ... TO
STDOUT` produced, SQLite one `INSERT` per table of the values `quote()` rendered. No model code
runs, so nothing is encrypted, hashed or authenticated again: an audit event restored is the one
the actions wrote (its nonce, its authenticator), and the catalog triggers still give the
catalog stamp a new value, so no process keeps a catalog it loaded before.

What a snapshot depends on and does not hold:

- the keys (encryption keyring, audit signing key) and the demo secrets in force when it was
  taken: `fingerprint()` names them, and a caller seeds for real when it differs;
- rows that existed before seeding (content types, permissions): `capture` refuses a seed that
  changes them or refers to them, so restoring never depends on their ids.

Primary keys: PostgreSQL's sequences never go back (no test resets them), so a row made later
never takes a key of the snapshot; SQLite's AUTOINCREMENT counters roll back with the
transaction, so they are moved past the snapshot's keys after the capture and on every restore.
"""

# The SQL here is built from model metadata (table and column names) and integers, never input.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import connections, models, transaction

# Everything a restored row was derived from besides the database: when one of these differs
# from the capture's, the caller must run the real seed instead.
_ENVIRONMENT = (
    "PORTAL_ENCRYPTION_KEYS",
    "PORTAL_ENCRYPTION_ACTIVE_KEY",
    "PORTAL_BLIND_INDEX_KEY",
    "PORTAL_AUDIT_SIGNING_KEY",
    "PORTAL_AUDIT_OLD_SIGNING_KEYS",
    "DEMO_PASSWORD",
    "DEMO_TOTP_SECRET",
)
_SETTINGS = ("PORTAL_KEY_FILE", "PORTAL_AUDIT_KEY_FILE", "VAR_DIR", "PASSWORD_HASHERS")


class SnapshotError(RuntimeError):
    pass


def fingerprint() -> str:
    """The configuration a snapshot's rows were derived from (keys, demo secrets, hashers)."""
    from audit import signing
    from privacy import crypto

    # The local key files are made on first use: make them now, so the fingerprint names them.
    crypto.active_key_id()
    signing.signing_key()
    parts = [f"{name}={os.environ.get(name, '')}" for name in _ENVIRONMENT]
    parts += [f"{name}={getattr(settings, name, None)!r}" for name in _SETTINGS]
    for name in ("PORTAL_KEY_FILE", "PORTAL_AUDIT_KEY_FILE"):
        path = getattr(settings, name, None)
        if path and os.path.exists(path):
            with open(path, "rb") as f:
                parts.append(hashlib.sha256(f.read()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


_INTEGER_KEYS = ("AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField")


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    pk: str
    integer_pk: bool
    # References to tables whose rows existed before seeding (never restored, ids may change).
    static_references: tuple[str, ...]


@dataclass(frozen=True)
class _Rows:
    table: _Table
    count: int
    max_pk: int | None
    data: bytes | str  # PostgreSQL: COPY text format; SQLite: the INSERT statement


def _tables(connection) -> list[_Table]:
    """Every model table (auto-created many-to-many tables too), referenced tables first."""
    existing = set(connection.introspection.table_names())
    by_table: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and meta.db_table in existing:
            by_table[meta.db_table] = model
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(table: str) -> None:
        if table in ordered or table in visiting:
            return
        visiting.add(table)
        for field in by_table[table]._meta.concrete_fields:
            target = field.related_model
            if field.is_relation and target is not None and target._meta.db_table in by_table:
                visit(target._meta.db_table)
        visiting.discard(table)
        ordered.append(table)

    for table in sorted(by_table):
        visit(table)
    result = []
    for table in ordered:
        meta = by_table[table]._meta
        references = tuple(
            f.related_model._meta.db_table
            for f in meta.concrete_fields
            if f.is_relation and f.related_model is not None
        )
        result.append(
            _Table(
                name=table,
                columns=tuple(f.column for f in meta.concrete_fields),
                pk=meta.pk.column,
                integer_pk=meta.pk.get_internal_type() in _INTEGER_KEYS,
                static_references=references,
            )
        )
    return result


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def _state(connection, table: _Table) -> tuple[int, int | None, str]:
    """(row count, largest primary key, digest of every row) of one table."""
    q = _quote(connection, table.name)
    pk = _quote(connection, table.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX({pk}) FROM {q}")
        count, max_pk = cursor.fetchone()
        if not count:
            return 0, None, ""
        cursor.execute(f"SELECT * FROM {q} ORDER BY {pk}")
        digest = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return count, max_pk if table.integer_pk else None, digest


def _read_new_rows(connection, table: _Table, after: int | None) -> _Rows | None:
    q = _quote(connection, table.name)
    pk = _quote(connection, table.pk)
    columns = ", ".join(_quote(connection, c) for c in table.columns)
    where = f"WHERE {pk} > {int(after)}" if after is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX({pk}) FROM {q} {where}")
        count, max_pk = cursor.fetchone()
        if not count:
            return None
        if connection.vendor == "postgresql":
            select = f"SELECT {columns} FROM {q} {where} ORDER BY {pk}"
            with cursor.cursor.copy(f"COPY ({select}) TO STDOUT") as copy:
                data: bytes | str = b"".join(bytes(chunk) for chunk in copy)
        else:
            values = " || ',' || ".join(f"quote({_quote(connection, c)})" for c in table.columns)
            select = f"SELECT * FROM {q} {where} ORDER BY {pk}"
            cursor.execute(f"SELECT group_concat('(' || {values} || ')', ',') FROM ({select})")
            data = f"INSERT INTO {q} ({columns}) VALUES {cursor.fetchone()[0]}"
    return _Rows(table, count, max_pk if table.integer_pk else None, data)


def _advance_sqlite_sequences(connection, rows: list[_Rows]) -> None:
    """SQLite's AUTOINCREMENT counters roll back with a transaction (PostgreSQL's sequences do
    not): move them past the snapshot's keys, so a row made before a restore never takes one."""
    with connection.cursor() as cursor:
        for r in rows:
            if r.max_pk is None:
                continue
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s",
                [r.max_pk, r.table.name],
            )
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT %s, %s "
                "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                [r.table.name, r.max_pk, r.table.name],
            )


class Snapshot:
    def __init__(self, rows: list[_Rows], fingerprint: str, using: str) -> None:
        self.rows = rows
        self.fingerprint = fingerprint
        self.using = using

    @property
    def row_count(self) -> int:
        return sum(r.count for r in self.rows)

    @classmethod
    def capture(cls, seed: Callable[[], object], *, using: str = "default") -> Snapshot:
        """Run `seed` on a clean database and keep the rows it inserted (then roll it back)."""
        connection = connections[using]
        if connection.in_atomic_block:
            raise SnapshotError(
                "capture between tests, outside any transaction: ask for the fixture that "
                "captures as an argument, not with getfixturevalue in a test"
            )
        tables = _tables(connection)
        taken = fingerprint()
        with transaction.atomic(using=using):
            before = {t.name: _state(connection, t) for t in tables}
            seed()
            rows: list[_Rows] = []
            seeded: set[str] = set()
            for table in tables:
                count, max_pk, _digest = before[table.name]
                if count and not table.integer_pk:
                    if _state(connection, table) != before[table.name]:
                        raise SnapshotError(f"the seed changed {table.name}, which had rows")
                    continue
                if count:
                    unchanged = _state_upto(connection, table, max_pk)
                    if unchanged != before[table.name]:
                        raise SnapshotError(f"the seed changed rows of {table.name}")
                new = _read_new_rows(connection, table, max_pk if count else None)
                if new is None:
                    continue
                static = [
                    ref for ref in table.static_references if before[ref][0] and ref not in seeded
                ]
                if static:
                    raise SnapshotError(
                        f"{table.name} rows refer to {static}, rows the seed did not write"
                    )
                rows.append(new)
                seeded.add(table.name)
            transaction.set_rollback(True, using=using)
        if fingerprint() != taken:
            raise SnapshotError("the seed changed the keys or the demo secrets it depends on")
        if connection.vendor == "sqlite":
            _advance_sqlite_sequences(connection, rows)
        return cls(rows, taken, using)

    def matches_environment(self) -> bool:
        return fingerprint() == self.fingerprint

    def restore(self) -> None:
        """Write the rows again, in the caller's transaction (or committed, in autocommit)."""
        connection = connections[self.using]
        with transaction.atomic(using=self.using), connection.cursor() as cursor:
            for r in self.rows:
                if connection.vendor == "postgresql":
                    q = _quote(connection, r.table.name)
                    columns = ", ".join(_quote(connection, c) for c in r.table.columns)
                    with cursor.cursor.copy(f"COPY {q} ({columns}) FROM STDIN") as copy:
                        copy.write(r.data)
                else:
                    cursor.execute(r.data)
            if connection.vendor == "sqlite":
                _advance_sqlite_sequences(connection, self.rows)


def _state_upto(connection, table: _Table, max_pk: int | None) -> tuple[int, int | None, str]:
    """`_state` of the rows whose key is at most `max_pk` (those that existed before)."""
    q = _quote(connection, table.name)
    pk = _quote(connection, table.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX({pk}) FROM {q} WHERE {pk} <= %s", [max_pk])
        count, largest = cursor.fetchone()
        if not count:
            return 0, None, ""
        cursor.execute(f"SELECT * FROM {q} WHERE {pk} <= %s ORDER BY {pk}", [max_pk])
        digest = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return count, largest, digest
