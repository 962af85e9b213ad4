"""How the audit log uses its keys (which `privacy.keyring` reads, from the environment and
never from the database).

`PORTAL_AUDIT_SIGNING_KEY` is `kid:base64(32 bytes)`. It signs checkpoints, and a key derived
from it (HKDF, its own label) authenticates every event when it is written. Keys retired by a
rotation stay readable for verification in `PORTAL_AUDIT_OLD_SIGNING_KEYS` (comma-separated,
same form). Development and tests generate a local key file (like the encryption keys);
production refuses to start without the variable.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy.keyring import clear_signing_keys, signing_key, signing_keys

_EVENT_MAC_LABEL = b"portal audit event authenticator v1"


def _derive(key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_EVENT_MAC_LABEL).derive(key)


@functools.lru_cache(maxsize=1)
def event_mac_key() -> tuple[str, bytes]:
    """The key that authenticates events as they are written, as (key id, key)."""
    kid, key = signing_key()
    return kid, _derive(key)


@functools.lru_cache(maxsize=1)
def event_mac_keys() -> dict[str, bytes]:
    return {kid: _derive(key) for kid, key in signing_keys().items()}


def hmac_sha256_hex(key: bytes):
    """`body -> hex(HMAC-SHA256(key, body))` with the key's inner and outer pads hashed once
    (RFC 2104), about a third of `hmac.digest`'s cost per call: verification makes one per
    event. Equal to `hmac.digest(key, body, "sha256").hex()` (a test holds them equal)."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def tag(body: bytes) -> str:
        i = inner.copy()
        i.update(body)
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()

    return tag


def mac_checker():
    """A function `(mac, body_digest) -> bool` that accepts a MAC made with any known key.
    Verification calls it once per event, so the common case (one key) is kept short."""
    tags = {f"{kid}:": hmac_sha256_hex(key) for kid, key in event_mac_keys().items()}
    compare = hmac.compare_digest
    if len(tags) == 1:
        ((prefix, only),) = tags.items()
        cut = len(prefix)

        def mac_ok_one(mac: str, body: bytes) -> bool:
            mac = mac or ""
            return mac[:cut] == prefix and compare(mac[cut:], only(body))

        return mac_ok_one

    def mac_ok(mac: str, body: bytes) -> bool:
        kid, _, value = (mac or "").partition(":")
        tag = tags.get(f"{kid}:")
        return tag is not None and compare(value, tag(body))

    return mac_ok


def event_authentic(event, mac_ok=None) -> bool:
    """Whether an event's authenticator holds: written by the portal and unchanged since."""
    from .chain import BODY_FIELDS, body_digest

    body = body_digest([getattr(event, f) for f in BODY_FIELDS])
    return (mac_ok or mac_checker())(event.mac, body)


def clear_caches() -> None:
    """Forget the keys read so far (tests that change the environment)."""
    clear_signing_keys()
    for cached in (event_mac_key, event_mac_keys):
        cached.cache_clear()
