"""The hash chain: a canonical form of each event and SHA-256 links, as pure functions.

hash(n) = SHA-256(hash(n-1) ‖ canonical(event n)); the first event links to 64 zeros. The
canonical form is JSON with sorted keys and no spaces, so any change to a recorded field,
the order, or the set of events changes every hash after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The recorded fields, in the order values() returns them for verification.
FIELDS = (
    "id",
    "chain_seq",
    "occurred_at",
    "actor_id",
    "actor_role",
    "actor_department_id",
    "action",
    "target_type",
    "target_ref",
    "subject_id",
    "purpose",
    "request_id",
    "source",
    "ip",
    "details",
)


# One encoder, built once: a JSON array of the recorded fields in FIELDS order (nested objects
# with sorted keys). An array is several times cheaper to encode than a keyed object.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_values(values: list[Any]) -> bytes:
    """The canonical bytes of an event's recorded values, in FIELDS order."""
    at = values[2]
    if isinstance(at, datetime):
        # The same instant hashes the same from any database or timezone.
        values[2] = at.astimezone(UTC).isoformat(timespec="microseconds")
    return _ENCODER.encode(values).encode()


def canonical(row: dict[str, Any]) -> bytes:
    return canonical_values([row[name] for name in FIELDS])


def link(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(row)).hexdigest()


@dataclass
class Verification:
    valid: bool
    checked: int
    first_invalid: int | None  # the event id (sequence) where the chain first breaks
    reason: str = ""


def verify_rows(rows: Iterable[dict[str, Any]]) -> Verification:
    """Walk sealed events (dicts) in chain order; see `verify_tuples`."""
    return verify_tuples([*(row[f] for f in FIELDS), row["prev_hash"], row["hash"]] for row in rows)


def _as_utc(value: Any) -> Any:
    """SQLite hands raw timestamps back naive (or as text); they are stored in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def verify_tuples(rows: Iterable[Any]) -> Verification:
    """Walk sealed events in chain order, each as (FIELDS…, prev_hash, hash) straight from the
    database cursor; name the first event whose position, link or content is wrong."""
    loads, sha256 = json.loads, hashlib.sha256
    prev, expected_seq, checked = GENESIS, 1, 0
    n = len(FIELDS)
    for raw in rows:
        checked += 1
        values = list(raw[:n])
        event_id, seq = values[0], values[1]
        if seq != expected_seq:
            reason = "an event is missing before this one" if seq > expected_seq else "out of order"
            return Verification(False, checked, event_id, reason)
        if raw[n] != prev:
            return Verification(False, checked, event_id, "does not link to the event before it")
        if isinstance(values[-1], str):  # details as JSON text
            values[-1] = loads(values[-1])
        values[2] = _as_utc(values[2])
        digest = sha256(prev.encode() + canonical_values(values)).hexdigest()
        if digest != raw[n + 1]:
            return Verification(False, checked, event_id, "its content was changed")
        prev, expected_seq = digest, expected_seq + 1
    return Verification(True, checked, None)


def sign(key: bytes, chain_seq: int, head_hash: str) -> str:
    return hmac.new(key, f"{chain_seq}:{head_hash}".encode(), hashlib.sha256).hexdigest()


def iter_chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
