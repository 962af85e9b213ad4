"""Database-level protection of the audit tables: UPDATE, DELETE and TRUNCATE are refused.

The only change allowed is the sealer's: setting chain_seq, prev_hash and hash once on an
unsealed event, with every recorded field unchanged. Installed by a migration; PostgreSQL
and SQLite (the embedded default) each get their own triggers.
"""

from __future__ import annotations

from .chain import RECORDED

# The recorded columns before events carried an authenticator (used by the early migration).
RECORDED_V1 = tuple(c for c in RECORDED if c not in ("nonce", "mac"))


def _postgres_install(recorded: tuple[str, ...]) -> str:
    unchanged = " AND ".join(
        f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in recorded if c != "details"
    )
    return f"""
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.hash = '' AND OLD.chain_seq IS NULL AND NEW.hash <> ''
     AND NEW.chain_seq IS NOT NULL AND {unchanged}
     AND NEW.details::text IS NOT DISTINCT FROM OLD.details::text THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP USING ERRCODE = '42501';
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_refuse() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP USING ERRCODE = '42501';
END $$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_event_guard ON audit_auditevent;
CREATE TRIGGER audit_event_guard BEFORE UPDATE OR DELETE ON audit_auditevent
  FOR EACH ROW EXECUTE FUNCTION audit_event_guard();
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
DROP TRIGGER IF EXISTS audit_checkpoint_guard ON audit_auditcheckpoint;
CREATE TRIGGER audit_checkpoint_guard BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
  FOR EACH ROW EXECUTE FUNCTION audit_refuse();
DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint;
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();
"""


POSTGRES_REMOVE = """
DROP TRIGGER IF EXISTS audit_event_guard ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_checkpoint_guard ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint;
DROP FUNCTION IF EXISTS audit_event_guard();
DROP FUNCTION IF EXISTS audit_refuse();
"""


def _sqlite_install(recorded: tuple[str, ...]) -> list[str]:
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in recorded)
    return [
        "DROP TRIGGER IF EXISTS audit_event_no_delete",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END",
        "DROP TRIGGER IF EXISTS audit_event_no_update",
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent "
        f"WHEN NOT (OLD.hash = '' AND OLD.chain_seq IS NULL AND NEW.hash != '' "
        f"AND NEW.chain_seq IS NOT NULL AND {unchanged}) "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
        "CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END",
        "DROP TRIGGER IF EXISTS audit_checkpoint_no_update",
        "CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_auditcheckpoint "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END",
    ]


SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_update",
]


def _run(connection, postgres: str, sqlite: list[str]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(postgres)
        elif connection.vendor == "sqlite":
            for statement in sqlite:
                cursor.execute(statement)
        else:  # pragma: no cover - only the two supported databases
            raise NotImplementedError(connection.vendor)


def install(connection, recorded: tuple[str, ...] = RECORDED) -> None:
    _run(connection, _postgres_install(recorded), _sqlite_install(recorded))


def remove(connection) -> None:
    """Only for migrations going backwards and for tests acting as the database owner."""
    _run(connection, POSTGRES_REMOVE, SQLITE_REMOVE)
