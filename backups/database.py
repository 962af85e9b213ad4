"""The database side of backups, for PostgreSQL (`pg_dump`/`pg_restore` in custom format, in
one exported snapshot) and SQLite (the online backup API): dumping, the facts a manifest
records, emptiness checks, restoring, and scratch databases for drills.

Everything here works on raw connections named by a settings dict (and optionally another
database name), never on Django's default connection: a backup reads one snapshot while the
portal keeps writing, and a drill restores into a database the portal does not use.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from django.conf import settings

from audit.models import AuditCheckpoint, AuditEvent
from services.models import Attachment

from .stream import ArchiveError

POSTGRES = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"


class RestoreRefused(Exception):
    """The target is not empty (and the restore was not forced), or cannot be used."""


class RestoreFailed(Exception):
    """A forced restore cleared the target database, then failed: the target is now empty or
    partly written, not as it was."""


def engine(settings_dict: dict[str, Any]) -> str:
    if settings_dict["ENGINE"] == POSTGRES:
        return "postgresql"
    if settings_dict["ENGINE"] == SQLITE:
        return "sqlite"
    raise RestoreRefused(f"backups support PostgreSQL and SQLite, not {settings_dict['ENGINE']}")


# --- PostgreSQL ---------------------------------------------------------------------------------


def pg_params(settings_dict: dict[str, Any], name: str | None = None) -> dict[str, str]:
    """psycopg's connection keywords for the database (or another one on the same server)."""
    params = {
        "dbname": name or settings_dict["NAME"],
        "host": settings_dict.get("HOST") or "",
        "port": str(settings_dict.get("PORT") or ""),
        "user": settings_dict.get("USER") or "",
        "password": settings_dict.get("PASSWORD") or "",
    }
    return {k: v for k, v in params.items() if v}


def pg_env(params: dict[str, str]) -> dict[str, str]:
    """The environment pg_dump and pg_restore read their connection from (the password never
    on a command line, where other users of the machine could read it)."""
    names = {"dbname": "PGDATABASE", "host": "PGHOST", "port": "PGPORT", "user": "PGUSER"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({names[k]: v for k, v in params.items() if k in names})
    if "password" in params:
        env["PGPASSWORD"] = params["password"]
    return env


def pg_tool(name: str) -> str:
    folder = settings.PORTAL_BACKUP_PG_BIN
    return str(Path(folder) / name) if folder else name


def pg_connect(params: dict[str, str], autocommit: bool = False):
    return psycopg.connect(**params, autocommit=autocommit)


@contextlib.contextmanager
def pg_snapshot(settings_dict: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """A read-only transaction at one snapshot, and the snapshot's id for pg_dump, held until
    the block ends."""
    with pg_connect(pg_params(settings_dict)) as conn:
        # psycopg opens the transaction itself before the first statement; an explicit BEGIN
        # would only raise a warning and leave the default READ COMMITTED level, so every
        # later query of the manifest would see a newer snapshot than the exported one.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        try:
            yield conn.cursor(), snapshot
        finally:
            conn.rollback()


def pg_dump(settings_dict: dict[str, Any], snapshot: str, write: Callable[[bytes], None]) -> None:
    """Stream `pg_dump -Fc` of the database at the snapshot to `write`."""
    params = pg_params(settings_dict)
    proc = subprocess.Popen(  # noqa: S603
        [pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-sync"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=pg_env(params),
    )
    assert proc.stdout is not None
    while block := proc.stdout.read(1024 * 1024):
        write(block)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.wait() != 0:
        raise ArchiveError(f"pg_dump failed: {stderr.strip()}")


def pg_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public' ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def pg_is_empty(params: dict[str, str]) -> bool:
    try:
        with pg_connect(params) as conn:
            return not pg_tables(conn.cursor())
    except psycopg.OperationalError as exc:
        raise RestoreRefused(
            f"cannot connect to the database {params['dbname']!r}: {str(exc).strip()}"
        ) from exc


def pg_restore_check(blocks: Iterator[bytes]) -> None:
    """Check, before anything is cleared, that `pg_restore` runs and can read the dump whose
    blocks are given (its header and table of contents: `pg_restore --list`)."""
    try:
        proc = subprocess.Popen(  # noqa: S603
            [pg_tool("pg_restore"), "--list"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise RestoreRefused(f"cannot run pg_restore: {exc}") from exc
    assert proc.stdin is not None
    try:
        for block in blocks:
            proc.stdin.write(block)
    except BrokenPipeError:
        pass  # it read what it needed (the table of contents) and stopped
    finally:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.wait() != 0:
        raise RestoreRefused(f"pg_restore cannot read the archive's dump: {stderr.strip()}")


def pg_clear(params: dict[str, str]) -> None:
    """Remove every table of the public schema (a forced restore over a used database)."""
    with pg_connect(params) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


class PgRestore:
    """`pg_restore` into the database in one transaction, fed by `write` (a custom-format dump
    read from a pipe); `finish()` waits for it and raises when it failed."""

    def __init__(self, params: dict[str, str]) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                pg_tool("pg_restore"),
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={params['dbname']}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=pg_env(params),
        )

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
        except BrokenPipeError:
            self.finish()

    def abort(self) -> None:
        """Stop pg_restore before the end of its input: its one transaction is rolled back."""
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stderr):
            if stream:
                with contextlib.suppress(OSError):
                    stream.close()

    def finish(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        stderr = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        if self.proc.wait() != 0:
            raise RestoreRefused(f"pg_restore failed, nothing was restored: {stderr.strip()}")


def pg_scratch_create(settings_dict: dict[str, Any]) -> dict[str, str]:
    """A new empty database on the same server, for a drill: its connection keywords."""
    base = str(settings_dict["NAME"])[:40]
    name = f"{base}_drill_{secrets.token_hex(4)}"
    with pg_connect(pg_params(settings_dict), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return pg_params(settings_dict, name)


def pg_scratch_drop(settings_dict: dict[str, Any], name: str) -> None:
    with pg_connect(pg_params(settings_dict), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(params: dict[str, str]) -> str:
    auth = quote(params.get("user", ""), safe="")
    if params.get("password"):
        auth += ":" + quote(params["password"], safe="")
    host = params.get("host", "")
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgres://{auth}@{host}{port}/{quote(params['dbname'], safe='')}"


# --- SQLite -------------------------------------------------------------------------------------


def sqlite_copy(source: str | Path, target: str | Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API: pages copied while
    other connections keep writing, restarted when one writes meanwhile)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        with dst:
            src.backup(dst, pages=4096)
    finally:
        dst.close()
        src.close()


def sqlite_tables(cursor) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY 1"
    )
    return [row[0] for row in cursor.fetchall()]


def sqlite_is_empty(path: str | Path) -> bool:
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return True
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return not sqlite_tables(conn.cursor())
    finally:
        conn.close()


def sqlite_replace(new: str | Path, path: str | Path) -> None:
    """Put the complete restored file `new` in place of the database at `path`: its old
    write-ahead log and journal are removed just before (they belong to the old file)."""
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(new, path)


# --- What a manifest records ---------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _iso(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def facts(cursor, vendor: str) -> dict[str, Any]:
    """Row counts of every table, the audit chain's head and newest checkpoint, the applied
    migrations and the attachment files rows point to, read through `cursor` (one snapshot)."""
    tables = pg_tables(cursor) if vendor == "postgresql" else sqlite_tables(cursor)
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    events = _quote(AuditEvent._meta.db_table)
    cursor.execute(
        f"SELECT chain_seq, hash FROM {events} WHERE chain_seq IS NOT NULL "  # noqa: S608
        "ORDER BY chain_seq DESC LIMIT 1"
    )
    row = cursor.fetchone()
    head = {"chain_seq": row[0], "hash": row[1]} if row else None
    checkpoints = _quote(AuditCheckpoint._meta.db_table)
    columns = "number, chain_seq, head_hash, created_at, prev_signature, key_id, signature"
    cursor.execute(f"SELECT {columns} FROM {checkpoints} ORDER BY number DESC LIMIT 1")  # noqa: S608
    row = cursor.fetchone()
    checkpoint = None
    if row:
        checkpoint = dict(
            zip(
                ("number", "chain_seq", "head_hash", "created_at", "prev_signature", "key_id",
                 "signature"),
                row,
                strict=True,
            )
        )  # fmt: skip
        checkpoint["created_at"] = _iso(checkpoint["created_at"])
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(app, []).append(name)
    cursor.execute(
        f"SELECT file FROM {_quote(Attachment._meta.db_table)} WHERE file <> ''"  # noqa: S608
    )
    files = sorted(row[0] for row in cursor.fetchall())
    return {
        "tables": counts,
        "audit": {
            "head": head,
            "checkpoint": checkpoint,
            "unsealed": _count_unsealed(cursor, events),
        },
        "migrations": migrations,
        "attachment_files": files,
    }


def _count_unsealed(cursor, events: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {events} WHERE chain_seq IS NULL")  # noqa: S608
    return cursor.fetchone()[0]


def remove_tree(path: str | Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
