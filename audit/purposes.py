"""Reveal purposes in the append-only audit log: sealed under a per-application data key that
erasure destroys (crypto-shredding).

A purpose is stored in `AuditEvent.purpose` as `pv1:<data key id>:<base64url(nonce ‖ ciphertext
‖ tag)>`, AES-256-GCM under the data key of the application the event concerns, with the scope
and the event's target as associated data. The hash chain covers the token, never the clear
text. The data key itself is kept wrapped under the portal's keyring (`DataKey.wrapped`), so key
rotation re-wraps that row and never rewrites an audit event. Erasure empties the row: the event
stays, the chain still verifies, and the purpose is shown as erased.

Purposes written before sealing existed are plain text that the append-only table keeps; they
are shown as they are (see docs/personal-data.md).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection, models
from django.utils import timezone

from privacy import crypto, rotation

from .actions import audit_record, target_of
from .constants import AuditAction
from .models import AuditEvent, DataKey

_VERSION = "pv1"
_TOKEN_RE = re.compile(r"pv1:([0-9]{1,18}):([A-Za-z0-9_-]+={0,2})")
_NONCE_BYTES = 12


class DataKeyShredded(crypto.CryptoError):
    """The application's data key was destroyed by erasure: nothing new is sealed under it."""


def application_scope(reference: str) -> str:
    return f"application:{reference}"


def _wrap_aad(scope: str) -> str:
    return f"datakey:{scope}"


def _purpose_aad(scope: str, target_type: str, target_ref: str) -> str:
    return f"audit.purpose:{scope}:{target_type}:{target_ref}"


def _unwrap(key: DataKey) -> AESGCM:
    try:
        raw = base64.urlsafe_b64decode(crypto.decrypt(key.wrapped, aad=_wrap_aad(key.scope)))
    except (binascii.Error, ValueError) as exc:
        raise crypto.DecryptionError(f"Data key {key.pk} is damaged.") from exc
    if len(raw) != 32:
        raise crypto.DecryptionError(f"Data key {key.pk} is damaged.")
    return AESGCM(raw)


def _data_key(scope: str) -> DataKey:
    """The scope's data key, made on first use (inside the caller's transaction)."""
    if not connection.in_atomic_block:
        raise RuntimeError("data keys are created inside the action's transaction")
    key = DataKey.objects.filter(scope=scope).first()
    if key is None:
        wrapped = crypto.encrypt(
            base64.urlsafe_b64encode(os.urandom(32)).decode("ascii"), aad=_wrap_aad(scope)
        )
        key, _created = DataKey.objects.get_or_create(scope=scope, defaults={"wrapped": wrapped})
    if key.shredded_at is not None or not key.wrapped:
        raise DataKeyShredded(f"The data key of {scope} was destroyed.")
    return key


def purpose_seal(*, scope: str, target: models.Model, text: str) -> str:
    """The token to store as the purpose of an event on `target` (empty text stays empty)."""
    if not text:
        return ""
    key = _data_key(scope)
    target_type, target_ref = target_of(target)
    nonce = os.urandom(_NONCE_BYTES)
    ct = _unwrap(key).encrypt(
        nonce, text.encode("utf-8"), _purpose_aad(scope, target_type, target_ref).encode()
    )
    return f"{_VERSION}:{key.pk}:{base64.urlsafe_b64encode(nonce + ct).decode('ascii')}"


def is_sealed_purpose(value: object) -> bool:
    return isinstance(value, str) and _TOKEN_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class Purpose:
    text: str
    erased: bool = False


class PurposeReader:
    """Opens the purposes of audit events, loading each data key once (prefetch a page's keys
    in one query with `prefetch`). Failures raise: a missing key, a wrong keyring or a damaged
    token is never shown as text or a blank."""

    def __init__(self) -> None:
        self._keys: dict[int, DataKey] = {}
        self._ciphers: dict[int, AESGCM] = {}

    def prefetch(self, events: Iterable[AuditEvent]) -> PurposeReader:
        wanted = set()
        for event in events:
            match = _TOKEN_RE.fullmatch(event.purpose or "")
            if match and int(match.group(1)) not in self._keys:
                wanted.add(int(match.group(1)))
        if wanted:
            self._keys.update(DataKey.objects.in_bulk(wanted))
        return self

    def _key(self, pk: int) -> DataKey:
        if pk not in self._keys:
            key = DataKey.objects.filter(pk=pk).first()
            if key is None:
                raise crypto.DecryptionError(f"Unknown data key {pk} for an audit purpose.")
            self._keys[pk] = key
        return self._keys[pk]

    def open(self, event: AuditEvent) -> Purpose:
        stored = event.purpose or ""
        if not stored.startswith(f"{_VERSION}:"):
            return Purpose(stored)  # written before purposes were sealed
        match = _TOKEN_RE.fullmatch(stored)
        if not match:
            raise crypto.DecryptionError("Malformed sealed purpose.")
        pk = int(match.group(1))
        key = self._key(pk)
        if key.shredded_at is not None:
            return Purpose("", erased=True)
        if pk not in self._ciphers:
            self._ciphers[pk] = _unwrap(key)
        try:
            blob = base64.urlsafe_b64decode(match.group(2))
            aad = _purpose_aad(key.scope, event.target_type, event.target_ref).encode()
            text = self._ciphers[pk].decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad)
            return Purpose(text.decode("utf-8"))
        except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError) as exc:
            raise crypto.DecryptionError(
                "A sealed purpose does not open: wrong key, moved or damaged token."
            ) from exc


def purpose_of(event: AuditEvent) -> Purpose:
    return PurposeReader().open(event)


def data_key_shred(*, scope: str) -> bool:
    """Destroy the scope's data key (inside the erasing action's transaction). Returns whether
    there was one to destroy. The wrapped key is overwritten, not just flagged."""
    if not connection.in_atomic_block:
        raise RuntimeError("data keys are destroyed inside the erasing action's transaction")
    return bool(
        DataKey.objects.filter(scope=scope, shredded_at__isnull=True).update(
            wrapped="", shredded_at=timezone.now()
        )
    )


def data_keys_rotate_batch(*, after_pk: int, batch: int = 500) -> tuple[int, int, int]:
    """Re-wrap one batch of data keys under the active keyring key; the audit events sealed
    under them stay as they are. Returns (last pk seen, rows scanned, rows changed)."""

    def rewrap(key: DataKey) -> dict | None:
        if not key.wrapped:
            return None
        rewrapped = crypto.rotate(key.wrapped, aad=_wrap_aad(key.scope))
        return {"wrapped": rewrapped} if rewrapped != key.wrapped else None

    return rotation.run_batch(
        "data_key", DataKey.objects.all(), rewrap, after_pk=after_pk, batch=batch
    )


def record_rotation(table: str, rows: int, key: str) -> None:
    """The audit event of one batch of a key rotation (`privacy.rotation`'s recorder)."""
    audit_record(
        action=AuditAction.KEYS_ROTATE,
        actor=None,
        details={"table": table, "rows": rows, "key": key},
    )
