"""The hash chain: a canonical form of each event and SHA-256 links, as pure functions.

    content(n) = SHA-256(canonical(event n))
    hash(n)    = SHA-256(hash(n-1) ‖ content(n))      (hash(0) = 64 zeros, hex text)

The canonical form of an event is the JSON array of its recorded fields (FIELDS order) exactly
as PostgreSQL's `json_build_array(...)::text` renders it: ", " between items, ": " after keys,
object keys in jsonb order (shorter first, then bytewise), the time as integer microseconds
since the epoch. There are two implementations of the same bytes:

- `CONTENT_DIGEST_SQL`, which PostgreSQL evaluates next to the data, so verification only moves
  32-byte digests to Python (fast: see bench/README.md);
- `canonical_values`, in Python, used on SQLite and by `verify_audit --independent`, which
  trusts nothing in the database but the raw column values.

A test feeds random events through both and requires the same bytes. Any change to a recorded
field, to the order or to the set of events changes every hash after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

GENESIS = "0" * 64

# The recorded fields, in canonical order.
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

# The same canonical bytes, built by PostgreSQL. `{seq}` is the chain position: the column when
# verifying, the position being assigned when sealing. Functions are schema-qualified so a
# function of the same name elsewhere on the search path cannot stand in for them.
CANONICAL_SQL = (
    "pg_catalog.json_build_array(id, {seq}, "
    "(EXTRACT(EPOCH FROM occurred_at) * 1000000)::bigint, "
    "actor_id, actor_role, actor_department_id, action, target_type, target_ref, subject_id, "
    "purpose, request_id, source, ip::text, details)::text"
)
CONTENT_DIGEST_SQL = f"pg_catalog.sha256(pg_catalog.convert_to({CANONICAL_SQL}, 'UTF8'))"
# The columns the independent (Python) check reads: raw values, the IP as PostgreSQL prints it
# (with its netmask when it is not a single host, so a changed mask changes the bytes).
RAW_COLUMNS_PG = [*FIELDS[:-2], "ip::text", "details"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_dumps = json.JSONEncoder(ensure_ascii=False).encode  # ", " and ": " separators, like PostgreSQL


def _jsonb_order(value: Any) -> Any:
    """Objects with their keys in jsonb's order (byte length, then bytes), recursively."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _jsonb_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_jsonb_order(v) for v in value]
    return value


def micros(value: Any) -> int:
    """A stored time as integer microseconds since the epoch (UTC). SQLite hands raw
    timestamps back naive (or as text); they are stored in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MICRO


def canonical_values(values: list[Any] | tuple[Any, ...]) -> bytes:
    """The canonical bytes of an event's recorded values, in FIELDS order."""
    *head, details = values
    head[2] = micros(head[2])
    if isinstance(details, str):  # JSON text straight from a cursor
        details = json.loads(details)
    return _dumps([*head, _jsonb_order(details)]).encode()


def canonical(row: dict[str, Any]) -> bytes:
    return canonical_values([row[name] for name in FIELDS])


def content_digest(values: list[Any] | tuple[Any, ...]) -> bytes:
    return hashlib.sha256(canonical_values(values)).digest()


def link_digest(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + content).hexdigest()


def link(prev_hash: str, row: dict[str, Any]) -> str:
    return link_digest(prev_hash, hashlib.sha256(canonical(row)).digest())


@dataclass
class Verification:
    valid: bool
    checked: int
    first_invalid: int | None  # the event id where the chain first breaks
    reason: str = ""


def verify_links(rows: Iterable[Any]) -> Verification:
    """Walk sealed events in chain order, each as (id, chain_seq, prev_hash, hash, content
    digest); name the first event whose position, link or content is wrong."""
    sha256 = hashlib.sha256
    prev, expected_seq, checked = GENESIS, 1, 0
    for event_id, seq, prev_hash, stored, content in rows:
        checked += 1
        if seq != expected_seq:
            reason = "an event is missing before this one" if seq > expected_seq else "out of order"
            return Verification(False, checked, event_id, reason)
        if prev_hash != prev:
            return Verification(False, checked, event_id, "does not link to the event before it")
        digest = sha256(prev.encode() + content).hexdigest()
        if digest != stored:
            return Verification(False, checked, event_id, "its content was changed")
        prev, expected_seq = digest, expected_seq + 1
    return Verification(True, checked, None)


def verify_tuples(rows: Iterable[Any]) -> Verification:
    """Walk sealed events as (FIELDS…, prev_hash, hash) raw from a cursor, computing each
    content digest in Python (see `verify_links`)."""
    n = len(FIELDS)
    return verify_links(
        (raw[0], raw[1], raw[n], raw[n + 1], content_digest(raw[:n])) for raw in rows
    )


def verify_rows(rows: Iterable[dict[str, Any]]) -> Verification:
    """`verify_tuples` over dicts."""
    return verify_tuples([*(row[f] for f in FIELDS), row["prev_hash"], row["hash"]] for row in rows)


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
