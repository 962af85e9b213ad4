"""Encryption of personal data at rest (AES-256-GCM) and blind indexes to look it up.

Keys come from the environment, never from SECRET_KEY, so rotating one does not touch the other.
Tokens carry their key id, so old rows keep decrypting after a new active key is added.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from .keyring import KeyConfigurationError, check_kid, decode_key, write_private_file

logger = logging.getLogger(__name__)

ENV_KEYS = "PORTAL_ENCRYPTION_KEYS"
ENV_ACTIVE = "PORTAL_ENCRYPTION_ACTIVE_KEY"
ENV_BLIND = "PORTAL_BLIND_INDEX_KEY"
_VERSION = "v1"
_NONCE_BYTES = 12
_TAG_BYTES = 16
# fullmatch, not $: a token with a trailing newline is not a token.
_TOKEN_RE = re.compile(r"v1:([A-Za-z0-9_-]{1,16}):([A-Za-z0-9_-]+={0,2})")


class CryptoError(Exception):
    """Base class for failures to encrypt or decrypt."""


class DecryptionError(CryptoError):
    """A token could not be decrypted: never answered with ciphertext or a blank."""


@dataclass(frozen=True)
class _Keyring:
    keys: dict[str, AESGCM]
    active: str
    blind_key: bytes


def _build(
    raw_keys: list[tuple[str, str]], active: str | None, blind: str, source: str
) -> _Keyring:
    if not raw_keys:
        raise KeyConfigurationError(f"{source}: no encryption keys listed.")
    keys: dict[str, bytes] = {}
    for kid, b64 in raw_keys:
        check_kid(kid, what=source)
        if kid in keys:
            raise KeyConfigurationError(f"{source}: key id {kid!r} is listed twice.")
        keys[kid] = decode_key(b64, what=f"{source}: key {kid!r}")
    active = active or raw_keys[-1][0]
    if active not in keys:
        raise KeyConfigurationError(f"{source}: the active key id {active!r} is not listed.")
    blind_key = decode_key(blind, what=f"{source}: the blind index key")
    # Reusing an encryption key for HMAC would tie the two rotations together.
    if blind_key in keys.values():
        raise KeyConfigurationError(f"{source}: the blind index key must differ from every key.")
    return _Keyring({kid: AESGCM(key) for kid, key in keys.items()}, active, blind_key)


def _from_env(raw: str) -> _Keyring:
    entries = []
    for entry in (e.strip() for e in raw.split(",")):
        kid, sep, b64 = entry.partition(":")
        if not sep:
            raise KeyConfigurationError(f"{ENV_KEYS} entries must be kid:base64key.")
        entries.append((kid.strip(), b64))
    blind = os.environ.get(ENV_BLIND, "").strip()
    if not blind:
        raise KeyConfigurationError(f"{ENV_BLIND} is required when {ENV_KEYS} is set.")
    return _build(entries, os.environ.get(ENV_ACTIVE, "").strip() or None, blind, ENV_KEYS)


def _key_file_path() -> Path:
    path = getattr(settings, "PORTAL_KEY_FILE", None)
    if path is None:
        path = Path(settings.VAR_DIR) / "keys.json"
    return Path(path)


def _generate_key_file(path: Path) -> None:
    def b64() -> str:
        return base64.urlsafe_b64encode(os.urandom(32)).decode()

    data = {"encryption_keys": {"k1": b64()}, "active": "k1", "blind_index_key": b64()}
    if not write_private_file(path, json.dumps(data)):
        return  # another process made it first
    logger.warning(
        "Generated a local development key file at %s; it must never be used in production.", path
    )


def _from_file(path: Path) -> _Keyring:
    source = f"key file {path}"
    try:
        data: Any = json.loads(path.read_text())
        entries = [(str(k), str(v)) for k, v in data["encryption_keys"].items()]
        return _build(entries, data.get("active"), str(data["blind_index_key"]), source)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyConfigurationError(f"{source} is unreadable or malformed.") from exc


@functools.lru_cache(maxsize=1)
def _keyring() -> _Keyring:
    raw = os.environ.get(ENV_KEYS, "").strip()
    if raw:
        return _from_env(raw)
    # A half-set environment means a deployment mistake: never fall back to a local file then.
    for name in (ENV_ACTIVE, ENV_BLIND):
        if os.environ.get(name, "").strip():
            raise KeyConfigurationError(f"{name} is set but {ENV_KEYS} is not.")
    path = _key_file_path()
    if not path.exists() and getattr(settings, "PORTAL_GENERATE_LOCAL_KEYS", False):
        _generate_key_file(path)
    if path.exists():
        return _from_file(path)
    raise KeyConfigurationError(
        f"No encryption keys: set {ENV_KEYS} (kid:base64key,...), {ENV_BLIND} and optionally "
        f"{ENV_ACTIVE}, or provide the key file {path} "
        "(PORTAL_GENERATE_LOCAL_KEYS=True creates one for development)."
    )


def reset_keyring_cache() -> None:
    """Forget the loaded keys, so the next call reads the environment and settings again."""
    _keyring.cache_clear()


def active_key_id() -> str:
    """The key id new values are encrypted with."""
    return _keyring().active


def _aad_bytes(aad: str) -> bytes:
    # Without a row identity a ciphertext could be copied to another row and still decrypt.
    if not aad:
        raise ValueError("aad must name the row and field the value belongs to.")
    return aad.encode("utf-8")


def encrypt(plaintext: str, *, aad: str) -> str:
    """Encrypt with the active key, bound to `aad`; returns `v1:<kid>:<b64(nonce+ct+tag)>`."""
    if not isinstance(plaintext, str):
        raise TypeError("encrypt() takes a str.")
    ring = _keyring()
    nonce = os.urandom(_NONCE_BYTES)
    ct = ring.keys[ring.active].encrypt(nonce, plaintext.encode("utf-8"), _aad_bytes(aad))
    return f"{_VERSION}:{ring.active}:{base64.urlsafe_b64encode(nonce + ct).decode('ascii')}"


def _parse(token: str) -> tuple[str, bytes]:
    match = _TOKEN_RE.fullmatch(token) if isinstance(token, str) else None
    if not match:
        raise DecryptionError("Malformed encrypted token.")
    try:
        blob = base64.urlsafe_b64decode(match.group(2))
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("Malformed encrypted token.") from exc
    if len(blob) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("Malformed encrypted token: too short.")
    return match.group(1), blob


def decrypt(token: str, *, aad: str) -> str:
    """Decrypt a token from `encrypt`; raise DecryptionError on any mismatch or damage."""
    kid, blob = _parse(token)
    key = _keyring().keys.get(kid)
    if key is None:
        raise DecryptionError(f"Unknown encryption key id {kid!r}.")
    try:
        data = key.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _aad_bytes(aad))
        return data.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError) as exc:
        raise DecryptionError(
            f"Decryption with key {kid!r} failed: wrong key, wrong aad or tampered data."
        ) from exc


# Files (attachments): MAGIC, the key id, a newline, then nonce + ciphertext + tag, raw bytes.
FILE_MAGIC = b"PORTAL-AESGCM-1:"


def encrypt_file(content: bytes, *, aad: str) -> tuple[str, bytes]:
    """Encrypt a file's bytes with the active key, bound to `aad`; returns (key id, blob)."""
    ring = _keyring()
    nonce = os.urandom(_NONCE_BYTES)
    ct = ring.keys[ring.active].encrypt(nonce, bytes(content), _aad_bytes(aad))
    return ring.active, FILE_MAGIC + ring.active.encode("ascii") + b"\n" + nonce + ct


def decrypt_file(blob: bytes, *, aad: str) -> bytes:
    """The bytes of a file from `encrypt_file`; DecryptionError on any mismatch or damage."""
    if not blob.startswith(FILE_MAGIC) or b"\n" not in blob[len(FILE_MAGIC) : len(FILE_MAGIC) + 17]:
        raise DecryptionError("Not an encrypted file.")
    kid, _, body = blob[len(FILE_MAGIC) :].partition(b"\n")
    key = _keyring().keys.get(kid.decode("ascii", "replace"))
    if key is None or len(body) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError(f"Unknown key or damaged file ({kid!r}).")
    try:
        return key.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], _aad_bytes(aad))
    except InvalidTag as exc:
        raise DecryptionError(
            "File decryption failed: wrong key, wrong aad or tampered data."
        ) from exc


def is_encrypted(value: object) -> bool:
    """True when `value` is shaped like a token from `encrypt` (not proof it decrypts)."""
    return isinstance(value, str) and _TOKEN_RE.fullmatch(value) is not None


def rotate(token: str, *, aad: str) -> str:
    """Re-encrypt with the active key; a token already on it is checked and returned as is."""
    plaintext = decrypt(token, aad=aad)  # decrypt first: a rotation job must surface bad rows
    if _parse(token)[0] == active_key_id():
        return token
    return encrypt(plaintext, aad=aad)


def blind_index(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA256 of the stripped, upper-cased value, separated by `purpose`."""
    # A NUL in purpose would let ("a\0b", "c") and ("a", "b\0c") collide.
    if not purpose or "\x00" in purpose:
        raise ValueError("purpose must be non-empty and contain no NUL character.")
    message = f"{purpose}\x00{value.strip().upper()}".encode()
    return hmac.new(_keyring().blind_key, message, hashlib.sha256).hexdigest()
