"""Writes of the backups app: a backup, a restore, a restore drill, the retention of archives
and the sweep of orphaned files. Each run is recorded (`BackupRun`) with its audit event; a
failed one opens a `BackupIncident`."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.actions import audit_record, audit_seal
from audit.constants import AuditAction

from . import database
from .archive import (
    database_blocks,
    newest_archive,
    open_archive,
    restore_archive,
    verify_archive,
    write_archive,
)
from .models import BackupIncident, BackupRun, RunKind
from .stream import ArchiveError
from .sweep import orphan_files

logger = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DrillFailed(Exception):
    """The drill found a problem (its report says which)."""


def backup_folder() -> Path:
    return Path(settings.PORTAL_BACKUP_DIR)


class Busy(Exception):
    """Another backup or drill of this folder is running."""


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """One backup or drill at a time per backup folder (a scheduled one that outlives the
    broker's visibility timeout is delivered again while the first still runs)."""
    folder = backup_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"another backup or drill of {folder} is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _settings_dict() -> dict[str, Any]:
    return dict(connection.settings_dict)


def backup_create(*, keep: int | None = None) -> tuple[Path, dict[str, Any]]:
    """Write a new archive of the database and the file store (sealing the audit log's
    pending events first, so the manifest's head is current), record it, and delete the
    archives beyond the retention policy."""
    while audit_seal():
        pass
    run = BackupRun(kind=RunKind.BACKUP, archive="")
    with _exclusive():
        path, manifest = write_archive(
            settings_dict=_settings_dict(),
            media_root=Path(settings.MEDIA_ROOT),
            folder=backup_folder(),
        )
    with transaction.atomic():
        run.archive, run.ok, run.finished_at = str(path), True, timezone.now()
        run.report = _summary(manifest, path)
        run.save()
        audit_record(
            action=AuditAction.BACKUP_CREATE,
            actor=None,
            target=run,
            details={"archive": path.name, "bytes": run.report["bytes"]},
        )
    backups_prune(keep=settings.BACKUP_KEEP if keep is None else keep)
    return path, manifest


def _summary(manifest: dict[str, Any], path: Path) -> dict[str, Any]:
    head = manifest["audit"]["head"] or {}
    return {
        "bytes": path.stat().st_size,
        "engine": manifest["engine"],
        "rows": sum(manifest["tables"].values()),
        "files": manifest["files"],
        "missing_files": len(manifest["missing_files"]),
        "audit_head": head.get("chain_seq"),
    }


def backups_prune(*, keep: int) -> list[str]:
    """Delete all but the newest `keep` archives of the backup folder (0 keeps every one)."""
    if keep <= 0:
        return []
    with _exclusive():
        archives = sorted(backup_folder().glob("portal-*.pbak"))
        removed = archives[:-keep]
        for path in removed:
            path.unlink(missing_ok=True)
    return [p.name for p in removed]


# --- Restore --------------------------------------------------------------------------------------


def _files_present(media_root: Path) -> bool:
    return media_root.is_dir() and any(f for _d, _s, f in os.walk(media_root) if f)


def restore_into(
    path: Path,
    *,
    settings_dict: dict[str, Any],
    target: dict[str, str] | str,
    media_root: Path,
    force: bool = False,
) -> dict[str, Any]:
    """Verify the whole archive, then restore it into `target` (PostgreSQL connection keywords,
    or a SQLite file's path) and `media_root`. Nothing is written unless every check passed;
    a non-empty database or file store is refused unless `force`. Both reads use one open
    handle, and each part is compared with the verified one before it is committed.

    Forced over a used PostgreSQL database, the database is cleared before the restore; a
    failure after that raises `RestoreFailed` (the target is no longer as it was). A SQLite
    target is only replaced once the restored file is complete."""
    with open_archive(path) as source:
        verified = verify_archive(path, source)
        manifest = verified.manifest
        vendor = database.engine(settings_dict)
        if manifest["engine"] != vendor:
            raise database.RestoreRefused(
                f"the archive holds a {manifest['engine']} database; the target is {vendor}"
            )
        if vendor == "postgresql":
            empty = database.pg_is_empty(target)
        else:
            empty = database.sqlite_is_empty(target)
        if not force and not empty:
            raise database.RestoreRefused(
                "the database is not empty; restore into an empty database, or pass --force to "
                "replace everything in it"
            )
        if not force and _files_present(media_root):
            raise database.RestoreRefused(
                f"the file store {media_root} is not empty; restore into an empty one, or pass "
                "--force"
            )
        if vendor == "postgresql":
            database.pg_restore_check(database_blocks(source))
        cleared = False
        if not empty and vendor == "postgresql":
            database.pg_clear(target)
            cleared = True
        try:
            files = _restore_from(source, verified, vendor, target, media_root)
        except Exception as exc:
            if cleared:
                raise database.RestoreFailed(
                    f"the target database was cleared and the restore failed: {exc}"
                ) from exc
            raise
    return {"manifest": manifest, "files": files}


def _restore_from(
    source, verified, vendor: str, target: dict[str, str] | str, media_root: Path
) -> int:
    media_root.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {}

    def write_database(_engine: str):
        if vendor == "postgresql":
            state["restore"] = database.PgRestore(target)
            return state["restore"].write
        state["tmp"] = Path(f"{target}.restoring")
        state["out"] = open(state["tmp"], "wb")  # noqa: SIM115
        return state["out"].write

    def finish_database() -> None:
        if vendor == "postgresql":
            state["restore"].finish()
            return
        state["out"].close()
        database.sqlite_replace(state["tmp"], target)

    def abort_database() -> None:
        if vendor == "postgresql":
            state["restore"].abort()
            return
        state["out"].close()
        state["tmp"].unlink(missing_ok=True)

    return restore_archive(
        source,
        verified=verified,
        write_database=write_database,
        finish_database=finish_database,
        abort_database=abort_database,
        media_root=media_root,
    )


def backup_restore(*, path: Path, force: bool = False) -> dict[str, Any]:
    """Restore an archive into the database of DATABASE_URL and the file store of
    PORTAL_MEDIA_ROOT (both must be empty unless `force`)."""
    settings_dict = _settings_dict()
    vendor = database.engine(settings_dict)
    target = database.pg_params(settings_dict) if vendor == "postgresql" else settings_dict["NAME"]
    connection.close()
    with _exclusive():
        return restore_into(
            path,
            settings_dict=settings_dict,
            target=target,
            media_root=Path(settings.MEDIA_ROOT),
            force=force,
        )


# --- Drill ---------------------------------------------------------------------------------------


def _check_in(scratch_url: str, manifest_path: Path, media_root: Path, sample: int) -> dict:
    """Run `backup_check` in a process whose database is the scratch one."""
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_TEST_DB_NAME"}
    env.update(
        {
            "DATABASE_URL": scratch_url,
            "PORTAL_MEDIA_ROOT": str(media_root),
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE")
            or str(settings.SETTINGS_MODULE),
        }
    )
    proc = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "django",
            "backup_check",
            str(manifest_path),
            "--sample",
            str(sample),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=settings.BACKUP_DRILL_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "problems": [f"the check did not finish: {proc.stderr[-2000:]}"]}


def drill_check(path: Path, *, sample: int | None = None) -> dict[str, Any]:
    """Restore `path` into a scratch database and file store, check it there, drop both."""
    sample = settings.BACKUP_DRILL_SAMPLE if sample is None else sample
    settings_dict = _settings_dict()
    vendor = database.engine(settings_dict)
    with tempfile.TemporaryDirectory(prefix="portal-drill-") as scratch:
        media_root = Path(scratch) / "media"
        if vendor == "postgresql":
            target: dict[str, str] | str = database.pg_scratch_create(settings_dict)
            url = database.pg_url(target)
        else:
            target = str(Path(scratch) / "restored.sqlite3")
            url = f"sqlite:///{target}"
        try:
            restored = restore_into(
                path, settings_dict=settings_dict, target=target, media_root=media_root
            )
            manifest_path = Path(scratch) / "manifest.json"
            manifest_path.write_text(json.dumps(restored["manifest"]))
            report = _check_in(url, manifest_path, media_root, sample)
            report["files_restored"] = restored["files"]
        finally:
            if vendor == "postgresql":
                database.pg_scratch_drop(settings_dict, target["dbname"])
    return report


def drill_run(*, path: Path | None = None, sample: int | None = None) -> BackupRun:
    """The restore drill: the newest archive (or `path`) restored into a scratch database and
    checked; recorded, and a failure opens an incident."""
    run = BackupRun(kind=RunKind.DRILL, archive=str(path or ""))
    started = time.monotonic()
    try:
        path = path or newest_archive(backup_folder())
        if path is None:
            raise DrillFailed(f"no archive in {backup_folder()}")
        run.archive = str(path)
        with _exclusive():
            report = drill_check(path, sample=sample)
    except (ArchiveError, database.RestoreRefused, DrillFailed, Busy, OSError) as exc:
        report = {"ok": False, "problems": [str(exc)]}
    except Exception as exc:
        logger.exception("restore drill crashed")
        report = {"ok": False, "problems": [f"{type(exc).__name__}: {exc}"]}
    # How long a restore of this archive takes, as measured: the recovery time to expect.
    report["seconds"] = round(time.monotonic() - started, 1)
    with transaction.atomic():
        run.ok, run.report, run.finished_at = bool(report.get("ok")), report, timezone.now()
        run.save()
        audit_record(
            action=AuditAction.BACKUP_DRILL,
            actor=None,
            target=run,
            details={"archive": Path(run.archive).name, "ok": run.ok},
        )
        if not run.ok:
            _incident_open(run, "; ".join(report.get("problems") or ["unknown failure"]))
    return run


def _incident_open(run: BackupRun, error: str) -> BackupIncident:
    incident = BackupIncident.objects.create(run=run, error=error[:10_000])
    audit_record(
        action=AuditAction.BACKUP_INCIDENT,
        actor=None,
        target=run,
        details={"incident": incident.pk, "kind": run.kind},
    )
    logger.error("backup incident %s: %s", incident.pk, error)
    return incident


def backup_failed(*, error: str) -> BackupIncident:
    """A scheduled backup that failed: recorded, with an incident."""
    with transaction.atomic():
        run = BackupRun.objects.create(
            kind=RunKind.BACKUP, archive="", finished_at=timezone.now(), report={"error": error}
        )
        return _incident_open(run, error)


def orphans_sweep(*, delete: bool = False, min_age_seconds: int = 3600) -> list[str]:
    """The orphaned attachment files of the file store; removed only when `delete`."""
    media_root = Path(settings.MEDIA_ROOT)
    found = orphan_files(media_root, min_age_seconds=min_age_seconds)
    if delete and found:
        for relative in found:
            (media_root / relative).unlink(missing_ok=True)
        with transaction.atomic():
            audit_record(
                action=AuditAction.BACKUP_SWEEP,
                actor=None,
                details={"files": len(found)},
            )
    return found


@transaction.atomic
def backup_incident_resolve(*, incident: BackupIncident, actor) -> BackupIncident:
    """Mark an incident resolved (an administrator fixed its cause)."""
    incident = BackupIncident.objects.select_for_update().get(pk=incident.pk)
    if incident.resolved_at is None:
        incident.resolved_at = timezone.now()
        incident.save(update_fields=["resolved_at"])
        audit_record(
            action=AuditAction.BACKUP_INCIDENT_RESOLVE,
            actor=actor,
            target=incident.run,
            details={"incident": incident.pk},
        )
    return incident
