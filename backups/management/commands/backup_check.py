"""Internal to the drill: check the restored database this process runs on against an
archive's manifest, and print the findings as one JSON line."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from backups.checks import check_restored


class Command(BaseCommand):
    help = "Check a restored database against a backup manifest (run by the restore drill)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("manifest", help="the archive's manifest, as JSON")
        parser.add_argument("--sample", type=int, default=50)

    def handle(self, *args, manifest: str, sample: int, **options) -> None:
        data = json.loads(Path(manifest).read_text())
        report = check_restored(data, sample=sample, media_root=Path(settings.MEDIA_ROOT))
        self.stdout.write(json.dumps(report, sort_keys=True))
