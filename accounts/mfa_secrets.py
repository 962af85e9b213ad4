"""TOTP secrets and recovery-code seeds, encrypted with the personal-data keys (privacy/crypto.py).

allauth passes these values through its MFA adapter's `encrypt`/`decrypt` hooks, which are given
the value only, not the row: the ciphertext is bound to its purpose (`AAD`), not to its row.
A value that does not decrypt (a wrong or missing key, a damaged or clear value) raises
`DecryptionError`; it is never used as it is.
"""

from __future__ import annotations

from typing import Any

from privacy import crypto

AAD = "allauth.mfa.authenticator"


def encrypt(text: str) -> str:
    return crypto.encrypt(text, aad=AAD)


def decrypt(token: str) -> str:
    return crypto.decrypt(token, aad=AAD)


def _secured(value: str) -> str:
    """`value` encrypted under the active key: clear values are encrypted, others rotated."""
    return crypto.rotate(value, aad=AAD) if crypto.is_encrypted(value) else encrypt(value)


def secured_data(data: dict[str, Any]) -> dict[str, Any]:
    """An authenticator's `data` with every secret in it encrypted under the active key.

    TOTP keeps `secret`; recovery codes keep `seed` and, when migrated from another system,
    `migrated_codes` (the codes themselves)."""
    data = dict(data)
    for field in ("secret", "seed"):
        if isinstance(data.get(field), str):
            data[field] = _secured(data[field])
    if isinstance(data.get("migrated_codes"), list):
        data["migrated_codes"] = [_secured(code) for code in data["migrated_codes"]]
    return data
