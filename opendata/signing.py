"""Signatures of releases: Ed25519, with a key derived from the audit signing key.

The audit key is a secret (HMAC), so a signature made with it could only be checked by the
portal. A release must be checkable by anyone who downloads it, so the portal derives an
Ed25519 key pair from the audit key (HKDF with its own label: nothing signed for the audit log
can pass for a release, nor the reverse) and publishes the public half. Each release names the
audit key id it was signed under; after a key rotation, the retired audit keys (kept for
verification) still give the public keys of older releases.

What is signed is the release document in canonical JSON (sorted keys, no spaces, UTF-8), with
its `signature` member left out.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privacy.keyring import signing_key, signing_keys

_LABEL = b"portal open-data release signature v1"
ALGORITHM = "Ed25519"


def _private(key: bytes) -> Ed25519PrivateKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(key)
    return Ed25519PrivateKey.from_private_bytes(seed)


def _public_b64(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode()


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the document without `signature`, canonical JSON."""
    body = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def current_key() -> tuple[str, str]:
    """(key id, base64 public key) that new releases are signed with."""
    kid, key = signing_key()
    return kid, _public_b64(_private(key))


def public_keys() -> dict[str, str]:
    """Every public key a release may name, by key id (the current and the retired ones)."""
    return {kid: _public_b64(_private(key)) for kid, key in signing_keys().items()}


def sign(document: dict[str, Any]) -> str:
    """The base64 signature of a document that names the current key id and public key."""
    kid, key = signing_key()
    if document.get("key_id") != kid:
        raise ValueError("the document must name the current signing key id")
    return base64.b64encode(_private(key).sign(canonical(document))).decode()


def verify(document: dict[str, Any], public_key_b64: str) -> bool:
    """Whether the document's `signature` holds under the given public key (what anyone
    holding the document and the published key can check, without the portal)."""
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        public.verify(base64.b64decode(str(document.get("signature", ""))), canonical(document))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
