"""The demo staff accounts' shared TOTP secret (demo only: real staff set up their own)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from allauth.mfa.totp.internal.auth import format_hotp_value, generate_totp_secret, hotp_value
from django.conf import settings


def _path() -> Path:
    return Path(settings.VAR_DIR) / "demo-totp-secret.txt"


def demo_totp_secret(*, create: bool = True) -> str | None:
    """DEMO_TOTP_SECRET, else the secret kept from an earlier seed, else a new one (if create)."""
    if os.environ.get("DEMO_TOTP_SECRET"):
        return os.environ["DEMO_TOTP_SECRET"]
    path = _path()
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    secret = generate_totp_secret()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return secret


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))
