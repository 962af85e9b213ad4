"""The portal's keys, all from the environment (or, in development, local key files), never
from the database and never from SECRET_KEY, so rotating one does not touch the others:

- encryption keys of personal data and the blind-index key (`privacy.crypto` builds its
  keyring from them);
- the audit signing key (`PORTAL_AUDIT_SIGNING_KEY`) and the retired ones verification still
  accepts (`PORTAL_AUDIT_OLD_SIGNING_KEYS`).

Every key is written `kid:base64` and read through one path (`parse_entry`, `decode_key`): a
key id of 1 to 16 letters, digits, `-` or `_`; 32 random bytes in standard or URL-safe base64,
padding optional. Whatever a key makes (a token, an event's authenticator, a checkpoint's
signature) names its key id, and one key id must always stand for one key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
KID_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
ENV_SIGNING = "PORTAL_AUDIT_SIGNING_KEY"
ENV_OLD_SIGNING = "PORTAL_AUDIT_OLD_SIGNING_KEYS"


class KeyConfigurationError(ImproperlyConfigured):
    """The keys are missing or malformed."""


def decode_key(raw: str, *, what: str, exact: bool = True) -> bytes:
    """A key given in standard or URL-safe base64 (padding optional): 32 bytes, or at least 32
    when not `exact` (signing keys may be longer)."""
    text = raw.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"{what} is not valid base64.") from exc
    if len(key) < KEY_BYTES or (exact and len(key) != KEY_BYTES):
        size = f"{KEY_BYTES}" if exact else f"at least {KEY_BYTES}"
        raise KeyConfigurationError(f"{what} must decode to {size} bytes, not {len(key)}.")
    return key


def check_kid(kid: str, *, what: str) -> str:
    if not KID_RE.fullmatch(kid):
        raise KeyConfigurationError(f"{what}: key id {kid!r} must match [A-Za-z0-9_-]{{1,16}}.")
    return kid


def parse_entry(raw: str, *, what: str, exact: bool = True) -> tuple[str, bytes]:
    """`kid:base64` as (key id, key)."""
    kid, sep, b64 = raw.strip().partition(":")
    if not sep:
        raise KeyConfigurationError(f"{what} must be kid:base64 (a key id, a colon, the key).")
    kid = check_kid(kid.strip(), what=what)
    return kid, decode_key(b64, what=f"{what}: key {kid!r}", exact=exact)


def one_key_per_id(entries: list[tuple[str, bytes]], *, what: str) -> dict[str, bytes]:
    """The entries by key id; an id given twice for two different keys is refused."""
    keys: dict[str, bytes] = {}
    for kid, key in entries:
        if keys.get(kid, key) != key:
            raise KeyConfigurationError(
                f"{what}: the key id {kid!r} stands for two different keys; give a new key a "
                "new id and keep the retired one under its own."
            )
        keys[kid] = key
    return keys


def write_private_file(path: Path, text: str) -> bool:
    """Create `path` with `text`, readable by its owner only, unless it exists: written in full
    to a temporary file and hard-linked into place (link fails if the file exists), so two
    processes starting together never overwrite each other's key and no reader sees half.
    True when this call created the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


def key_file_entry(path: Path | None, *, local_kid: str, env: str) -> str:
    """One key's `kid:base64` entry from the key file `path`, for when the environment variable
    `env` is not set: made with a new random key under `local_kid` on first use when the
    settings allow local keys (development and tests). None: no file may stand in."""
    if path is not None and not path.exists() and settings.PORTAL_GENERATE_LOCAL_KEYS:
        write_private_file(path, f"{local_kid}:" + base64.b64encode(os.urandom(KEY_BYTES)).decode())
    if path is None or not path.exists():
        raise KeyConfigurationError(f"Set {env} (kid:base64 of 32 random bytes).")
    return path.read_text().strip()


@functools.lru_cache(maxsize=1)
def signing_key() -> tuple[str, bytes]:
    """The current audit signing key, as (key id, key)."""
    raw = os.environ.get(ENV_SIGNING, "").strip() or key_file_entry(
        Path(settings.PORTAL_AUDIT_KEY_FILE), local_kid="a1", env=ENV_SIGNING
    )
    return parse_entry(raw, what=ENV_SIGNING, exact=False)


@functools.lru_cache(maxsize=1)
def signing_keys() -> dict[str, bytes]:
    """Every audit signing key verification accepts, by key id: the retired ones and the
    current one. A rotation that reused an id would make everything made with the old key
    fail verification, and is refused here instead."""
    entries = [
        parse_entry(raw, what=ENV_OLD_SIGNING, exact=False)
        for raw in os.environ.get(ENV_OLD_SIGNING, "").split(",")
        if raw.strip()
    ]
    return one_key_per_id([*entries, signing_key()], what="The audit signing keys")


def clear_signing_keys() -> None:
    """Forget the signing keys read so far (tests that change the environment)."""
    signing_key.cache_clear()
    signing_keys.cache_clear()
