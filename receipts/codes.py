"""Verification codes: `<token>.<key id>.<mac>`.

The token is random and names one issued document. The MAC is an HMAC-SHA256 of the token and
the key id, under a key derived with HKDF from the privacy keyring's signing key of that id
(`privacy.keyring.signing_keys`), truncated to 128 bits. A code whose MAC does not match was
not made by the portal (forged, mistyped or altered) and is refused before any lookup; a code
signed under a retired key still verifies while that key is in PORTAL_AUDIT_OLD_SIGNING_KEYS.
Deriving a key of its own keeps a receipt's MAC from ever being usable as an audit
authenticator or checkpoint signature, and the reverse.
"""

from __future__ import annotations

import base64
import functools
import hmac
import re
import secrets
from hashlib import sha256

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy import keyring

_INFO = b"citizen-portal receipts: verification codes v1"
_MAC_BYTES = 16
CODE_RE = re.compile(r"([A-Za-z0-9_-]{16,32})\.([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{22})")


class BadCode(Exception):
    """Not a code the portal made."""


@functools.lru_cache(maxsize=32)
def _derived(kid: str, key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key)


def _mac(token: str, kid: str, key: bytes) -> str:
    digest = hmac.new(_derived(kid, key), f"{token}.{kid}".encode(), sha256).digest()
    return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).rstrip(b"=").decode()


def new_token() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 random bits


def current_key_id() -> str:
    return keyring.signing_key()[0]


def make(token: str, kid: str) -> str:
    """The code of `token`, signed under the key `kid` (current or retired)."""
    key = keyring.signing_keys().get(kid)
    if key is None:
        raise BadCode(kid)
    return f"{token}.{kid}.{_mac(token, kid, key)}"


def check(code: str) -> tuple[str, str]:
    """(token, key id) of a genuine code; `BadCode` for anything else."""
    match = CODE_RE.fullmatch((code or "").strip())
    if match is None:
        raise BadCode("shape")
    token, kid, mac = match.groups()
    key = keyring.signing_keys().get(kid)
    if key is None or not hmac.compare_digest(mac, _mac(token, kid, key)):
        raise BadCode("mac")
    return token, kid
