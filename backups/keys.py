"""The backup key: `PORTAL_BACKUP_KEY` (`kid:base64` of 32 random bytes), read the way
`privacy.keyring` reads every other key, and the retired ones a restore still accepts
(`PORTAL_BACKUP_OLD_KEYS`, comma-separated). It is never written into an archive, and it is
none of the keys of personal data or of the audit log: an archive opened with it still holds
sealed values and encrypted files that only the live personal-data keys open
(docs/operations.md, "Backups").

Development and tests use a local key file (`PORTAL_BACKUP_KEY_FILE`), generated on first use
when the settings allow local keys; production must set the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from privacy.keyring import key_file_entry, one_key_per_id, parse_entry

ENV_KEY = "PORTAL_BACKUP_KEY"
ENV_OLD_KEYS = "PORTAL_BACKUP_OLD_KEYS"


def backup_key() -> tuple[str, bytes]:
    """The key new archives are encrypted with, as (key id, key)."""
    path = settings.PORTAL_BACKUP_KEY_FILE
    raw = os.environ.get(ENV_KEY, "").strip() or key_file_entry(
        Path(path) if path else None, local_kid="b1", env=ENV_KEY
    )
    return parse_entry(raw, what=ENV_KEY)


def backup_keys() -> dict[str, bytes]:
    """Every key a restore accepts, by key id: the retired ones and the current one."""
    entries = [
        parse_entry(raw, what=ENV_OLD_KEYS)
        for raw in os.environ.get(ENV_OLD_KEYS, "").split(",")
        if raw.strip()
    ]
    return one_key_per_id([*entries, backup_key()], what="The backup keys")
