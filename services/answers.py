"""Sealing answers and profile facts: personal values become AES-GCM tokens at rest.

A stored answer set is a flat {key: value} where the value of a `personal` or `sensitive` field
is a token from `privacy.crypto.encrypt` over its JSON form, bound to the row and key (the
associated data), so a token copied to another row or field does not decrypt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from privacy import crypto

from .constants import ENCRYPTED_SENSITIVITIES

APPLICANT_NATIONAL_ID = "applicant.national_id"
NATIONAL_ID_INDEX_PURPOSE = "national_id"


def _aad(row: str, key: str) -> str:
    return f"{row}:{key}"


def is_sealed_field(definition: Any) -> bool:
    return definition.sensitivity in ENCRYPTED_SENSITIVITIES


def seal(answers: Mapping[str, Any], *, row: str, dictionary: Mapping[str, Any]) -> dict[str, Any]:
    """Encrypt the values of personal and sensitive fields; public values stay as they are."""
    sealed: dict[str, Any] = {}
    for key, value in answers.items():
        definition = dictionary.get(key)
        if definition is not None and is_sealed_field(definition) and value is not None:
            sealed[key] = crypto.encrypt(json.dumps(value, ensure_ascii=False), aad=_aad(row, key))
        else:
            sealed[key] = value
    return sealed


def unseal(stored: Mapping[str, Any], *, row: str, dictionary: Mapping[str, Any]) -> dict[str, Any]:
    """Decrypt a stored answer set. A wrong key or a moved token raises DecryptionError."""
    opened: dict[str, Any] = {}
    for key, value in stored.items():
        definition = dictionary.get(key)
        sealed_field = definition is not None and is_sealed_field(definition)
        if sealed_field and value is not None:
            opened[key] = json.loads(crypto.decrypt(value, aad=_aad(row, key)))
        else:
            opened[key] = value
    return opened


def national_id_index(value: Any) -> str:
    """The blind index of a national ID, for exact look-ups without decrypting rows."""
    if not isinstance(value, str) or not value.strip():
        return ""
    return crypto.blind_index(value, purpose=NATIONAL_ID_INDEX_PURPOSE)
