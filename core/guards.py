"""Database triggers that refuse changes to append-only tables, on PostgreSQL and SQLite.

A guard is a description: which tables, the message of a refusal, and for a table whose rows
may change once in a known way (the audit sealer filling an event's chain columns) the
condition under which an UPDATE passes. From it the guard writes the SQL that installs and
removes its triggers on each database; the triggers are named after each table's `prefix`:

- PostgreSQL: `<prefix>_guard` (BEFORE UPDATE OR DELETE, per row) and `<prefix>_no_truncate`
  (BEFORE TRUNCATE), calling the guard's refusal function, or for a table with an allowed
  update a function of its own, `<prefix>_guard()`;
- SQLite: `<prefix>_no_update` and `<prefix>_no_delete` (SQLite has no TRUNCATE).

Migrations install a guard (`guard.install(schema_editor.connection)`); each app registers its
guard in its `AppConfig.ready()` (`register`), so whoever acts as the database owner (the test
suite's flush) lifts every guard without naming them (`lifted`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class GuardedTable:
    table: str
    prefix: str
    # An UPDATE that satisfies this condition passes (the same rule written for each database).
    allow_update_postgres: str = ""
    allow_update_sqlite: str = ""


@dataclass(frozen=True)
class Guard:
    name: str
    message: str
    refuse_function: str
    tables: tuple[GuardedTable, ...]

    def _raise(self) -> str:
        return f"  RAISE EXCEPTION '{self.message}: % refused', TG_OP USING ERRCODE = '42501';\n"

    def _row_function(self, table: GuardedTable) -> str:
        return f"{table.prefix}_guard" if table.allow_update_postgres else self.refuse_function

    def postgres_install(self) -> str:
        functions = [
            f"CREATE OR REPLACE FUNCTION {t.prefix}_guard() RETURNS trigger AS $$\nBEGIN\n"
            f"  IF TG_OP = 'UPDATE' AND {t.allow_update_postgres} THEN\n"
            "    RETURN NEW;\n  END IF;\n"
            f"{self._raise()}END $$ LANGUAGE plpgsql;\n"
            for t in self.tables
            if t.allow_update_postgres
        ]
        functions.append(
            f"CREATE OR REPLACE FUNCTION {self.refuse_function}() RETURNS trigger AS $$\n"
            f"BEGIN\n{self._raise()}END $$ LANGUAGE plpgsql;\n"
        )
        triggers = [
            f"DROP TRIGGER IF EXISTS {t.prefix}_guard ON {t.table};\n"
            f"CREATE TRIGGER {t.prefix}_guard BEFORE UPDATE OR DELETE ON {t.table}\n"
            f"  FOR EACH ROW EXECUTE FUNCTION {self._row_function(t)}();\n"
            f"DROP TRIGGER IF EXISTS {t.prefix}_no_truncate ON {t.table};\n"
            f"CREATE TRIGGER {t.prefix}_no_truncate BEFORE TRUNCATE ON {t.table}\n"
            f"  FOR EACH STATEMENT EXECUTE FUNCTION {self.refuse_function}();\n"
            for t in self.tables
        ]
        return "".join(functions) + "".join(triggers)

    def postgres_remove(self) -> str:
        statements = [
            f"DROP TRIGGER IF EXISTS {t.prefix}_{kind} ON {t.table};\n"
            for t in self.tables
            for kind in ("guard", "no_truncate")
        ]
        statements += [
            f"DROP FUNCTION IF EXISTS {t.prefix}_guard();\n"
            for t in self.tables
            if t.allow_update_postgres
        ]
        statements.append(f"DROP FUNCTION IF EXISTS {self.refuse_function}();\n")
        return "".join(statements)

    def sqlite_install(self) -> list[str]:
        statements = []
        for t in self.tables:
            for operation in ("DELETE", "UPDATE"):
                trigger = f"{t.prefix}_no_{operation.lower()}"
                when = (
                    f"WHEN NOT ({t.allow_update_sqlite}) "
                    if operation == "UPDATE" and t.allow_update_sqlite
                    else ""
                )
                statements += [
                    f"DROP TRIGGER IF EXISTS {trigger}",
                    f"CREATE TRIGGER {trigger} BEFORE {operation} ON {t.table} {when}"
                    f"BEGIN SELECT RAISE(ABORT, '{self.message}: {operation} refused'); END",
                ]
        return statements

    def sqlite_remove(self) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {t.prefix}_no_{operation}"
            for t in self.tables
            for operation in ("delete", "update")
        ]

    def _run(self, connection, postgres: str, sqlite: list[str]) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(postgres)
            elif connection.vendor == "sqlite":
                for statement in sqlite:
                    cursor.execute(statement)
            else:  # pragma: no cover - only the two supported databases
                raise NotImplementedError(connection.vendor)

    def install(self, connection) -> None:
        self._run(connection, self.postgres_install(), self.sqlite_install())

    def remove(self, connection) -> None:
        """Only for migrations going backwards and for acting as the database owner."""
        self._run(connection, self.postgres_remove(), self.sqlite_remove())

    @contextmanager
    def lifted(self, connection) -> Iterator[None]:
        self.remove(connection)
        try:
            yield
        finally:
            self.install(connection)


_registry: dict[str, Guard] = {}


def register(guard: Guard) -> None:
    """Called by each app with guarded tables, in its `AppConfig.ready()`."""
    _registry[guard.name] = guard


def registered() -> tuple[Guard, ...]:
    return tuple(_registry.values())


@contextmanager
def lifted(connection) -> Iterator[None]:
    """Every registered guard removed for the block and installed again after it (acting as
    the database owner: emptying the database between tests)."""
    guards = registered()
    for guard in guards:
        guard.remove(connection)
    try:
        yield
    finally:
        for guard in guards:
            guard.install(connection)
