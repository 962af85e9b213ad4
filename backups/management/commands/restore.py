"""Restore a backup archive into the empty database of DATABASE_URL and the empty file store
of PORTAL_MEDIA_ROOT; the whole archive is verified before anything is written."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from backups.actions import Busy, backup_restore
from backups.database import RestoreFailed, RestoreRefused
from backups.stream import ArchiveError
from privacy.keyring import KeyConfigurationError


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database and file store."

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", help="the archive's path (portal-….pbak)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace everything in a database or file store that is not empty",
        )

    def handle(self, *args, archive: str, force: bool, **options) -> None:
        try:
            result = backup_restore(path=Path(archive), force=force)
        except RestoreFailed as exc:
            self.stderr.write(
                self.style.ERROR(
                    _(
                        "The restore failed after the database was cleared: it is empty or "
                        "partly restored, not as it was. Restore again from a good archive. "
                        "%(error)s."
                    )
                    % {"error": exc}
                )
            )
            sys.exit(3)
        except (ArchiveError, RestoreRefused, Busy, KeyConfigurationError, OSError) as exc:
            self.stderr.write(
                self.style.ERROR(_("Refused, nothing was changed: %(error)s.") % {"error": exc})
            )
            sys.exit(2)
        manifest = result["manifest"]
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Restored the backup of %(created)s: %(rows)s rows in %(tables)s tables, "
                    "%(files)s files. Run `manage.py verify_audit` next."
                )
                % {
                    "created": manifest["created_at"],
                    "rows": sum(manifest["tables"].values()),
                    "tables": len(manifest["tables"]),
                    "files": result["files"],
                }
            )
        )
