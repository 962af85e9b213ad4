"""Write a backup archive (database, file store, manifest), encrypted with the backup key;
print its path last. `--verify` then runs the restore drill on it."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from backups.actions import Busy, backup_create, drill_run
from backups.stream import ArchiveError
from privacy.keyring import KeyConfigurationError


class Command(BaseCommand):
    help = "Write an encrypted backup archive of the database and the file store."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--verify",
            action="store_true",
            help="restore the new archive into a scratch database and check it (the drill)",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="archives to keep in PORTAL_BACKUP_DIR (default: BACKUP_KEEP; 0 keeps all)",
        )

    def handle(self, *args, verify: bool, keep: int | None, **options) -> None:
        try:
            path, manifest = backup_create(keep=keep)
        except (ArchiveError, Busy, KeyConfigurationError, OSError) as exc:
            self.stderr.write(self.style.ERROR(_("Backup failed: %(error)s") % {"error": exc}))
            sys.exit(1)
        head = (manifest["audit"]["head"] or {}).get("chain_seq") or 0
        self.stderr.write(
            _(
                "Backup written: %(rows)s rows in %(tables)s tables, %(files)s files, audit "
                "chain up to event %(head)s."
            )
            % {
                "rows": sum(manifest["tables"].values()),
                "tables": len(manifest["tables"]),
                "files": manifest["files"],
                "head": head,
            }
        )
        if verify:
            run = drill_run(path=path)
            _report(self, run)
            if not run.ok:
                self.stdout.write(str(path))
                sys.exit(1)
        self.stdout.write(str(path))


def _report(command: BaseCommand, run) -> None:
    report = run.report
    if run.ok:
        command.stderr.write(
            command.style.SUCCESS(
                _(
                    "Restore drill passed: %(rows)s rows, %(events)s audit events verified, "
                    "%(apps)s applications and %(files)s attachments opened with the live keys, "
                    "%(orphans)s orphaned files."
                )
                % {
                    "rows": report.get("rows"),
                    "events": (report.get("audit") or {}).get("checked"),
                    "apps": (report.get("sealed_values") or {}).get("applications"),
                    "files": (report.get("sealed_values") or {}).get("attachments"),
                    "orphans": report.get("orphaned_files"),
                }
            )
        )
    else:
        command.stderr.write(
            command.style.ERROR(
                _("Restore drill failed: %(problems)s")
                % {"problems": "; ".join(report.get("problems") or [])}
            )
        )
