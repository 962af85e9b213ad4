"""Backup and restore: an archive restores the database (PostgreSQL or SQLite, whichever the
run uses) and the file store completely, with an audit chain that verifies, sealed values and
files the live keys open, and the same row counts; a damaged, truncated or wrongly keyed
archive, or a non-empty target, is refused with nothing changed; the drill passes on a good
archive and opens an incident on a bad one; orphaned files are found and only removed when
asked."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.actions import audit_checkpoint, audit_seal
from audit.models import AuditEvent
from backups import actions, database, tasks
from backups.archive import verify_archive
from backups.models import BackupIncident, BackupRun
from backups.stream import ArchiveError
from services.models import Attachment
from tests.factories import UserFactory, newborn_draft
from tests.support import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PORTAL_BACKUP_DIR = str(tmp_path / "backups")
    return settings.MEDIA_ROOT


@pytest.fixture
def world(catalog, store):
    """Two drafts with their files (sealed answers, encrypted files), a sealed and
    checkpointed audit chain, then one more event after the checkpoint."""
    citizen = UserFactory()
    drafts = [newborn_draft(citizen), newborn_draft(citizen, file_name="second.pdf")]
    while audit_seal():
        pass
    with transaction.atomic():
        audit_checkpoint(force=True)
    newborn_draft(UserFactory())
    return drafts


@pytest.fixture
def target(tmp_path):
    """An empty database to restore into (a new one on the same PostgreSQL server, or a
    SQLite file), dropped afterwards."""
    settings_dict = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        params = database.pg_scratch_create(settings_dict)
        yield params
        database.pg_scratch_drop(settings_dict, params["dbname"])
    else:
        yield str(tmp_path / "restored.sqlite3")


def table_counts(target) -> dict[str, int]:
    if isinstance(target, dict):
        with database.pg_connect(target) as conn:
            cursor = conn.cursor()
            return {
                t: cursor.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
                for t in database.pg_tables(cursor)
            }
    conn = sqlite3.connect(target)
    try:
        cursor = conn.cursor()
        return {
            t: cursor.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
            for t in database.sqlite_tables(cursor)
        }
    finally:
        conn.close()


def test_round_trip_restores_every_row_and_file(world, target, tmp_path, store):
    path, manifest = actions.backup_create()
    assert path.exists()
    assert manifest["audit"]["checkpoint"]["number"] == 1
    assert (
        manifest["audit"]["head"]["chain_seq"] == AuditEvent.objects.exclude(chain_seq=None).count()
    )
    restored_media = tmp_path / "restored-media"
    result = actions.restore_into(
        path,
        settings_dict=dict(connection.settings_dict),
        target=target,
        media_root=restored_media,
    )
    assert result["files"] == Attachment.objects.count() == 3
    assert table_counts(target) == manifest["tables"]
    for attachment in Attachment.objects.all():
        live = (store / attachment.file.name).read_bytes()
        assert (restored_media / attachment.file.name).read_bytes() == live


def test_the_manifest_is_read_at_the_dumped_snapshot(world, require_postgres, monkeypatch):
    """The facts of the manifest are read in the repeatable-read, read-only transaction whose
    snapshot pg_dump uses, so row counts and the audit head describe the dumped data."""
    seen = {}
    real = database.facts

    def facts(cursor, vendor):
        seen["isolation"] = cursor.execute("SHOW transaction_isolation").fetchone()[0]
        seen["read_only"] = cursor.execute("SHOW transaction_read_only").fetchone()[0]
        return real(cursor, vendor)

    monkeypatch.setattr(database, "facts", facts)
    actions.backup_create()
    assert seen == {"isolation": "repeatable read", "read_only": "on"}


def test_a_sqlite_backup_leaves_no_plaintext_copy_in_the_backup_folder(
    world, store, settings, monkeypatch
):
    """The consistent copy of a SQLite database is made outside the backup folder."""
    scratch = []
    real = database.sqlite_copy

    def sqlite_copy(source, target):
        scratch.append(Path(target))
        real(source, target)

    monkeypatch.setattr(database, "sqlite_copy", sqlite_copy)
    actions.backup_create()
    folder = Path(settings.PORTAL_BACKUP_DIR).resolve()
    assert len(scratch) == (connection.vendor == "sqlite")
    assert all(folder not in path.resolve().parents for path in scratch)


def test_the_drill_verifies_the_chain_and_opens_sealed_values(world):
    path, manifest = actions.backup_create()
    run = actions.drill_run(sample=10)
    assert run.ok, run.report
    assert run.archive == str(path)
    report = run.report
    assert report["audit"]["valid"]
    assert report["audit"]["checked"] == manifest["audit"]["head"]["chain_seq"]
    assert report["sealed_values"] == {"applications": 3, "attachments": 3}
    assert report["rows"] == sum(manifest["tables"].values())
    assert not report["count_differences"]
    assert BackupIncident.objects.count() == 0
    assert AuditEvent.objects.filter(action="backup.drill").count() == 1


@pytest.mark.parametrize("damage", ["flip", "truncate", "wrong-key"])
def test_a_damaged_archive_is_refused_and_nothing_changes(
    world, target, tmp_path, monkeypatch, damage
):
    path, _manifest = actions.backup_create()
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0x40
        path.write_bytes(bytes(blob))
    elif damage == "truncate":
        path.write_bytes(bytes(blob[:-100]))
    else:
        monkeypatch.setenv("PORTAL_BACKUP_KEY", "b1:" + "A" * 43)
    restored_media = tmp_path / "restored-media"
    with pytest.raises(ArchiveError):
        actions.restore_into(
            path,
            settings_dict=dict(connection.settings_dict),
            target=target,
            media_root=restored_media,
        )
    assert not table_counts(target)
    assert not restored_media.exists()


def test_restore_command_refuses_a_non_empty_database(world):
    path, _manifest = actions.backup_create()
    before = AuditEvent.objects.count()
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("restore", str(path), stdout=StringIO(), stderr=err)
    assert exit_.value.code == 2
    assert "the database is not empty" in err.getvalue()
    assert "nothing was changed" in err.getvalue()
    assert AuditEvent.objects.count() == before


def test_restore_command_refuses_a_damaged_archive(world):
    path, _manifest = actions.backup_create()
    path.write_bytes(path.read_bytes()[:-1])
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("restore", str(path), stdout=StringIO(), stderr=err)
    assert "truncated" in err.getvalue()


def test_a_failing_drill_opens_an_incident(world):
    path, _manifest = actions.backup_create()
    blob = bytearray(path.read_bytes())
    blob[-50] ^= 1
    path.write_bytes(bytes(blob))
    run = actions.drill_run()
    assert not run.ok
    incident = BackupIncident.objects.get()
    assert incident.run == run
    assert "damaged" in incident.error
    assert AuditEvent.objects.filter(action="backup.incident").count() == 1


def test_a_drill_without_an_archive_fails_loudly(store):
    run = actions.drill_run()
    assert not run.ok
    assert "no archive" in BackupIncident.objects.get().error


def test_backup_command_prints_the_archive_path_last_and_verifies(world):
    out = StringIO()
    call_command("backup", "--verify", stdout=out, stderr=StringIO())
    path = Path(out.getvalue().strip().splitlines()[-1])
    assert path.exists()
    assert verify_archive(path).manifest["files"] == 3
    assert BackupRun.objects.filter(kind="drill", ok=True).count() == 1


def test_retention_keeps_the_newest(store):
    folder = Path(store).parent / "backups"
    folder.mkdir()
    for day in range(1, 6):
        (folder / f"portal-2026010{day}T000000000000Z.pbak").write_bytes(b"x")
    removed = actions.backups_prune(keep=2)
    assert len(removed) == 3
    assert sorted(p.name for p in folder.glob("portal-*")) == [
        "portal-20260104T000000000000Z.pbak",
        "portal-20260105T000000000000Z.pbak",
    ]


def test_orphan_sweep_is_a_dry_run_unless_asked(world, store):
    kept = Attachment.objects.first()
    orphan = store / "attachments" / "APP-GONE" / "old-token.k0"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind by an interrupted rotation")
    young = store / "attachments" / "APP-GONE" / "uploading"
    young.write_bytes(b"an upload whose row is not committed yet")
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    out = StringIO()
    call_command("sweep_orphans", stdout=out, stderr=StringIO())
    assert out.getvalue().split() == ["attachments/APP-GONE/old-token.k0"]
    assert orphan.exists()
    call_command("sweep_orphans", "--delete", stdout=StringIO(), stderr=StringIO())
    assert not orphan.exists()
    assert young.exists()
    assert (store / kept.file.name).exists()
    assert AuditEvent.objects.filter(action="backup.sweep").count() == 1


def test_the_drill_counts_orphans_in_the_restored_store(world, store):
    orphan = store / "attachments" / "APP-GONE" / "old-token.k0"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind")
    actions.backup_create()
    run = actions.drill_run()
    assert run.ok, run.report
    assert run.report["orphaned_files"] == 1


def test_restore_command_into_the_database_of_database_url(world, target, tmp_path):
    """`manage.py restore` as an operator runs it: another process, DATABASE_URL and
    PORTAL_MEDIA_ROOT naming the empty database and file store."""
    path, manifest = actions.backup_create()
    url = database.pg_url(target) if isinstance(target, dict) else f"sqlite:///{target}"
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_TEST_DB_NAME"}
    env.update(DATABASE_URL=url, PORTAL_MEDIA_ROOT=str(tmp_path / "restored-media"))

    def restore() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "restore", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    done = restore()
    assert done.returncode == 0, done.stderr
    # The operator's language (the default, Chinese): the message names the backup's moment.
    assert manifest["created_at"] in done.stdout
    assert table_counts(target) == manifest["tables"]
    assert len(list((tmp_path / "restored-media").rglob("*"))) >= 3
    again = restore()
    assert again.returncode == 2
    assert "not empty" in again.stderr


def test_a_failing_scheduled_backup_opens_an_incident(store, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backup folder should be")
    settings.PORTAL_BACKUP_DIR = str(blocked)
    assert tasks.maintenance_backup() == ""
    incident = BackupIncident.objects.get()
    assert incident.run.kind == "backup" and not incident.run.ok
    actions.backup_incident_resolve(incident=incident, actor=None)
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert AuditEvent.objects.filter(action="backup.incident_resolve").count() == 1


def test_restore_into_a_database_that_cannot_be_reached_is_refused(world, tmp_path):
    path, _manifest = actions.backup_create()
    settings_dict = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        target = database.pg_params(settings_dict, "portal_no_such_database")
        with pytest.raises(database.RestoreRefused, match="cannot connect"):
            actions.restore_into(
                path, settings_dict=settings_dict, target=target, media_root=tmp_path / "m"
            )
    else:
        target = str(tmp_path / "no-such-folder" / "restored.sqlite3")
        with pytest.raises(OSError):
            actions.restore_into(
                path, settings_dict=settings_dict, target=target, media_root=tmp_path / "m"
            )


def test_force_replaces_a_used_database_and_file_store(world, target, tmp_path):
    path, manifest = actions.backup_create()
    settings_dict = dict(connection.settings_dict)
    media = tmp_path / "restored-media"
    actions.restore_into(path, settings_dict=settings_dict, target=target, media_root=media)
    with pytest.raises(database.RestoreRefused, match="not empty"):
        actions.restore_into(path, settings_dict=settings_dict, target=target, media_root=media)
    actions.restore_into(
        path, settings_dict=settings_dict, target=target, media_root=media, force=True
    )
    assert table_counts(target) == manifest["tables"]


def test_a_forced_restore_that_fails_after_clearing_says_so(world, target, tmp_path, monkeypatch):
    """A failure after a forced restore cleared the database is reported as such, never as a
    refusal that changed nothing; on SQLite nothing is replaced before the restored file is
    complete, so the old database stays."""
    path, manifest = actions.backup_create()
    settings_dict = dict(connection.settings_dict)
    media = tmp_path / "restored-media"
    actions.restore_into(path, settings_dict=settings_dict, target=target, media_root=media)

    def broken(*args, **kwargs):
        raise OSError("the disk is full")

    monkeypatch.setattr(actions, "restore_archive", broken)
    if connection.vendor == "postgresql":
        with pytest.raises(database.RestoreFailed, match="cleared and the restore failed"):
            actions.restore_into(
                path, settings_dict=settings_dict, target=target, media_root=media, force=True
            )
    else:
        with pytest.raises(OSError, match="the disk is full"):
            actions.restore_into(
                path, settings_dict=settings_dict, target=target, media_root=media, force=True
            )
        assert table_counts(target) == manifest["tables"]


def test_the_restore_command_reports_a_failure_after_clearing(monkeypatch):
    from backups.management.commands import restore

    def failed(**kwargs):
        raise database.RestoreFailed("the target database was cleared and the restore failed")

    monkeypatch.setattr(restore, "backup_restore", failed)
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("restore", "portal-x.pbak", "--force", stderr=err)
    assert exit_.value.code == 3
    assert "nothing was changed" not in err.getvalue()
    assert "cleared" in err.getvalue()


def test_a_forced_restore_refuses_a_dump_pg_restore_cannot_read(
    world, target, tmp_path, require_postgres, monkeypatch, settings
):
    """pg_restore is checked before the used database is cleared: when it cannot run, the
    restore is refused and the database keeps its rows."""
    path, manifest = actions.backup_create()
    settings_dict = dict(connection.settings_dict)
    media = tmp_path / "restored-media"
    actions.restore_into(path, settings_dict=settings_dict, target=target, media_root=media)
    settings.PORTAL_BACKUP_PG_BIN = str(tmp_path / "no-such-bin")
    with pytest.raises(database.RestoreRefused, match="pg_restore"):
        actions.restore_into(
            path, settings_dict=settings_dict, target=target, media_root=media, force=True
        )
    assert table_counts(target) == manifest["tables"]


def test_a_part_changed_after_verification_is_not_written(world, tmp_path, monkeypatch):
    """Restore compares every part with the verified manifest before committing it."""
    from backups import archive

    path, _manifest = actions.backup_create()
    real = archive.verify_archive

    def verify(path, source=None):
        verified = real(path, source)
        for part in verified.parts:
            if part["kind"] == "file":
                part["sha256"] = "0" * 64
        return verified

    monkeypatch.setattr(actions, "verify_archive", verify)
    media = tmp_path / "m"
    settings_dict = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        target = database.pg_scratch_create(settings_dict)
    else:
        target = str(tmp_path / "restored.sqlite3")
    try:
        with pytest.raises(ArchiveError, match="changed after it was verified"):
            actions.restore_into(path, settings_dict=settings_dict, target=target, media_root=media)
    finally:
        if connection.vendor == "postgresql":
            database.pg_scratch_drop(settings_dict, target["dbname"])
    assert not any(p.is_file() and not p.name.startswith(".") for p in media.rglob("*"))
