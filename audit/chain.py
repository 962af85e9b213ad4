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
from datetime import datetime
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


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return str(value)


def canonical(row: dict[str, Any]) -> bytes:
    data = {name: row[name] for name in FIELDS}
    if isinstance(data["occurred_at"], datetime):
        # Normalise to UTC so the same instant hashes the same from any database or timezone.
        from datetime import UTC

        data["occurred_at"] = data["occurred_at"].astimezone(UTC)
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode()


def link(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(row)).hexdigest()


@dataclass
class Verification:
    valid: bool
    checked: int
    first_invalid: int | None  # the event id (sequence) where the chain first breaks
    reason: str = ""


def verify_rows(rows: Iterable[dict[str, Any]]) -> Verification:
    """Walk sealed events in chain order; name the first event whose link or content is wrong."""
    prev, expected_seq, checked = GENESIS, 1, 0
    for row in rows:
        checked += 1
        if row["chain_seq"] != expected_seq:
            reason = (
                "an event is missing before this one"
                if row["chain_seq"] > expected_seq
                else "out of order"
            )
            return Verification(False, checked, row["id"], reason)
        if row["prev_hash"] != prev:
            return Verification(False, checked, row["id"], "does not link to the event before it")
        if link(prev, row) != row["hash"]:
            return Verification(False, checked, row["id"], "its content was changed")
        prev, expected_seq = row["hash"], expected_seq + 1
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
