"""The database refuses UPDATE, DELETE and TRUNCATE on releases: a published release is
immutable even for someone who bypasses the application. Installed by a migration; PostgreSQL
and SQLite each get their own triggers."""

from __future__ import annotations

_POSTGRES_INSTALL = """
CREATE OR REPLACE FUNCTION opendata_release_refuse() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'open-data releases are immutable: % refused', TG_OP USING ERRCODE = '42501';
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS opendata_release_guard ON opendata_release;
CREATE TRIGGER opendata_release_guard BEFORE UPDATE OR DELETE ON opendata_release
  FOR EACH ROW EXECUTE FUNCTION opendata_release_refuse();
DROP TRIGGER IF EXISTS opendata_release_no_truncate ON opendata_release;
CREATE TRIGGER opendata_release_no_truncate BEFORE TRUNCATE ON opendata_release
  FOR EACH STATEMENT EXECUTE FUNCTION opendata_release_refuse();
"""

_POSTGRES_REMOVE = """
DROP TRIGGER IF EXISTS opendata_release_guard ON opendata_release;
DROP TRIGGER IF EXISTS opendata_release_no_truncate ON opendata_release;
DROP FUNCTION IF EXISTS opendata_release_refuse();
"""

_SQLITE_INSTALL = [
    "DROP TRIGGER IF EXISTS opendata_release_no_update",
    "CREATE TRIGGER opendata_release_no_update BEFORE UPDATE ON opendata_release "
    "BEGIN SELECT RAISE(ABORT, 'open-data releases are immutable: UPDATE refused'); END",
    "DROP TRIGGER IF EXISTS opendata_release_no_delete",
    "CREATE TRIGGER opendata_release_no_delete BEFORE DELETE ON opendata_release "
    "BEGIN SELECT RAISE(ABORT, 'open-data releases are immutable: DELETE refused'); END",
]

_SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS opendata_release_no_update",
    "DROP TRIGGER IF EXISTS opendata_release_no_delete",
]


def install(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRES_INSTALL)
        elif connection.vendor == "sqlite":
            for statement in _SQLITE_INSTALL:
                cursor.execute(statement)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRES_REMOVE)
        elif connection.vendor == "sqlite":
            for statement in _SQLITE_REMOVE:
                cursor.execute(statement)
