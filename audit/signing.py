"""The key that signs audit checkpoints: from the environment, never from the database.

`PORTAL_AUDIT_SIGNING_KEY` is `kid:base64(32 bytes)`. Development and tests generate a local
key file (like the encryption keys); production refuses to start without the variable.
"""

from __future__ import annotations

import base64
import functools
import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@functools.lru_cache(maxsize=1)
def signing_key() -> tuple[str, bytes]:
    raw = os.environ.get("PORTAL_AUDIT_SIGNING_KEY", "").strip()
    if not raw:
        path = Path(settings.PORTAL_AUDIT_KEY_FILE)
        if not path.exists() and settings.PORTAL_GENERATE_LOCAL_KEYS:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_text("a1:" + base64.b64encode(os.urandom(32)).decode())
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)  # never overwrite a key another process just made
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        if not path.exists():
            raise ImproperlyConfigured(
                "Set PORTAL_AUDIT_SIGNING_KEY (kid:base64 of 32 random bytes)."
            )
        raw = path.read_text().strip()
    kid, _, b64 = raw.partition(":")
    try:
        key = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured("PORTAL_AUDIT_SIGNING_KEY is not kid:base64.") from exc
    if not kid or len(key) < 32:
        raise ImproperlyConfigured("PORTAL_AUDIT_SIGNING_KEY needs a key id and 32 bytes.")
    return kid, key
