"""Database-level protection of the audit tables: UPDATE, DELETE and TRUNCATE are refused.

The only change allowed is the sealer's: setting chain_seq, prev_hash and hash once on an
unsealed event, with every recorded field unchanged. Installed by a migration; the triggers
for PostgreSQL and SQLite (the embedded default) are written by `core.guards`, and the app
registers the guard in `AuditConfig.ready()`.
"""

from __future__ import annotations

from core.guards import Guard, GuardedTable

from .chain import RECORDED

# The recorded columns before events carried an authenticator (used by the early migration).
RECORDED_V1 = tuple(c for c in RECORDED if c not in ("nonce", "mac"))


def guard(recorded: tuple[str, ...] = RECORDED) -> Guard:
    """The guard of the audit tables when events record the columns `recorded`."""
    unchanged_postgres = " AND ".join(
        f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in recorded if c != "details"
    )
    unchanged_sqlite = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in recorded)
    event = GuardedTable(
        "audit_auditevent",
        "audit_event",
        allow_update_postgres=(
            "OLD.hash = '' AND OLD.chain_seq IS NULL AND NEW.hash <> ''\n"
            f"     AND NEW.chain_seq IS NOT NULL AND {unchanged_postgres}\n"
            "     AND NEW.details::text IS NOT DISTINCT FROM OLD.details::text"
        ),
        allow_update_sqlite=(
            "OLD.hash = '' AND OLD.chain_seq IS NULL AND NEW.hash != '' "
            f"AND NEW.chain_seq IS NOT NULL AND {unchanged_sqlite}"
        ),
    )
    checkpoint = GuardedTable("audit_auditcheckpoint", "audit_checkpoint")
    return Guard("audit", "audit log is append-only", "audit_refuse", (event, checkpoint))


GUARD = guard()


def install(connection, recorded: tuple[str, ...] = RECORDED) -> None:
    guard(recorded).install(connection)


def remove(connection) -> None:
    """Only for migrations going backwards and for tests acting as the database owner."""
    GUARD.remove(connection)
