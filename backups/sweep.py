"""Orphaned attachment files: files in the file store's `attachments/` folder that no
attachment row points to. An interrupted key rotation leaves them (the new file is written and
the row moved to it, and the old file is deleted only after the commit), as does a crash
between an upload's file write and its commit."""

from __future__ import annotations

import os
import time
from pathlib import Path

from services.models import Attachment

FOLDER = "attachments"


def orphan_files(media_root: Path, *, min_age_seconds: int = 3600) -> list[str]:
    """The orphaned files (relative to the file store), oldest first; files younger than
    `min_age_seconds` are left out (an upload may not have committed its row yet)."""
    root = media_root / FOLDER
    if not root.is_dir():
        return []
    referenced = set(Attachment.objects.exclude(file="").values_list("file", flat=True))
    now = time.time()
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            relative = path.relative_to(media_root).as_posix()
            if relative in referenced:
                continue
            try:
                modified = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if now - modified >= min_age_seconds:
                found.append((modified, relative))
    return [relative for _modified, relative in sorted(found)]
