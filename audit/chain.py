"""The hash chain and the event authenticators: canonical forms and digests, as pure functions.

Every event has two canonical forms:

- its **body**: the JSON array of everything recorded about it except its row id and chain
  position (BODY_FIELDS order), including a unique `nonce` chosen when it was written. The
  application authenticates the body when it writes the event:

      body_digest(n) = SHA-256(body(n))
      mac(n)         = kid ":" HMAC-SHA256(K, body_digest(n))      (K never in the database)

- its **place** in the chain, which the sealer links:

      content(n) = SHA-256("id:chain_seq:mac:" ‖ body_digest(n))
      hash(n)    = SHA-256(hash(n-1) ‖ content(n))      (hash(0) = 64 zeros, hex text)

The body is a length-prefixed concatenation of the fields (see `BODY_SQL`): texts as
"<characters>:<text>", numbers as "<digits>;", the time as integer microseconds since the
epoch, an IP as `inet::text`, the details as `jsonb::text` (object keys shorter first, then
bytewise; ", " and ": "). There are two implementations of the same bytes: `BODY_SQL`, which
PostgreSQL evaluates next to the data (so verification moves only 32-byte digests to Python),
and `body_bytes` in Python (used when writing, on SQLite and by `verify_audit --independent`).
A property test holds them equal.

An edit of any recorded field breaks its event's MAC (detectable only with K); a reordering,
deletion or insertion breaks the links; a rewrite of the whole chain is caught by the signed
checkpoints exported outside the database (see audit/checkpoints.py and docs/audit.md).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

GENESIS = "0" * 64

# Everything recorded about an event except its id and chain position, in canonical order.
BODY_FIELDS = (
    "nonce",
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
# Every column the database must never change once written (the sealer sets only the seal).
RECORDED = ("id", *BODY_FIELDS, "mac")

# The body as PostgreSQL renders it: every field in BODY_FIELDS order, a text as
# "<characters>:<text>" (":" alone for NULL), a number as "<digits>;" (";" alone for NULL), the
# time as integer microseconds since the epoch, the IP as `inet::text`, the details as
# `jsonb::text`. Length prefixes make it unambiguous without quoting, and plain concatenation
# costs PostgreSQL about half of what `json_build_array` does. Functions are schema-qualified
# so a function of the same name elsewhere on the search path cannot stand in for them.
_TEXT = "pg_catalog.length({0}), ':', {0}"
_NUMBER = "{0}, ';'"
BODY_SQL = (
    "pg_catalog.concat("
    + ", ".join(
        [
            _TEXT.format("nonce"),
            _NUMBER.format("(EXTRACT(EPOCH FROM occurred_at) * 1000000)::bigint"),
            _NUMBER.format("actor_id"),
            _TEXT.format("actor_role"),
            _NUMBER.format("actor_department_id"),
            _TEXT.format("action"),
            _TEXT.format("target_type"),
            _TEXT.format("target_ref"),
            _NUMBER.format("subject_id"),
            _TEXT.format("purpose"),
            _TEXT.format("request_id"),
            _TEXT.format("source"),
            _TEXT.format("ip::text"),
            _TEXT.format("details::text"),
        ]
    )
    + ")"
)
BODY_DIGEST_SQL = f"pg_catalog.sha256(pg_catalog.convert_to({BODY_SQL}, 'UTF8'))"
# The content digest (see `content_digest`), given the body digest as the column `body`.
CONTENT_DIGEST_SQL = (
    "pg_catalog.sha256(pg_catalog.convert_to("
    "id::text || ':' || chain_seq::text || ':' || mac || ':', 'UTF8') || body)"
)
# The columns the independent (Python) check reads: raw values, the IP as PostgreSQL prints it
# (with its netmask when it is not a single host, so a changed mask changes the bytes).
RAW_BODY_COLUMNS_PG = [*BODY_FIELDS[:-2], "ip::text", "details"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_dumps = json.JSONEncoder(ensure_ascii=False).encode  # ", " and ": " separators, like PostgreSQL
_sha256 = hashlib.sha256
_hmac_digest = hmac.digest


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


def inet_text(value: str) -> str:
    """An address as PostgreSQL's `inet::text` prints it (with its mask; an IPv6 address that
    embeds an IPv4 one in PostgreSQL's sense with the IPv4 part dotted). Values that already
    carry a mask are PostgreSQL's own rendering and are left alone."""
    if "/" in value:
        return value
    address = ipaddress.ip_address(value)
    if address.version == 4:
        return f"{address}/32"
    number = int(address)
    words = [(number >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_base, best_len, cur_base = -1, 0, -1
    for i, word in enumerate([*words, 1]):  # a sentinel closes the last run
        if word == 0 and i < 8:
            cur_base = i if cur_base == -1 else cur_base
        elif cur_base != -1:
            if i - cur_base > best_len:
                best_base, best_len = cur_base, i - cur_base
            cur_base = -1
    if best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
        prefix = "::" if best_len == 6 else "::ffff:"
        return f"{prefix}{ipaddress.IPv4Address(number & 0xFFFFFFFF)}/128"
    hextets = [f"{w:x}" for w in words]
    if best_len >= 2:
        hextets[best_base : best_base + best_len] = [""]
        if best_base == 0:
            hextets.insert(0, "")
        if best_base + best_len == 8:
            hextets.append("")
    return ":".join(hextets) + "/128"


def _text(value: str | None) -> str:
    return ":" if value is None else f"{len(value)}:{value}"


def _number(value: int | None) -> str:
    return ";" if value is None else f"{value};"


def details_text(details: Any) -> str:
    """Details as PostgreSQL prints `jsonb::text` (keys in jsonb order, ", " and ": ")."""
    if isinstance(details, str):  # JSON text straight from a cursor
        details = json.loads(details)
    return _dumps(_jsonb_order(details))


def body_bytes(values: list[Any] | tuple[Any, ...]) -> bytes:
    """The canonical bytes of an event's body, from its values in BODY_FIELDS order."""
    (nonce, occurred, actor, role, department, action, target_type, target_ref, subject,
     purpose, request_id, source, ip, details) = values  # fmt: skip
    return "".join(
        (
            _text(nonce),
            _number(micros(occurred)),
            _number(actor),
            _text(role),
            _number(department),
            _text(action),
            _text(target_type),
            _text(target_ref),
            _number(subject),
            _text(purpose),
            _text(request_id),
            _text(source),
            _text(inet_text(str(ip)) if ip else None),
            _text(details_text(details)),
        )
    ).encode()


def body_digest(values: list[Any] | tuple[Any, ...]) -> bytes:
    return _sha256(body_bytes(values)).digest()


def mac_of(kid: str, key: bytes, digest: bytes) -> str:
    """The authenticator of a body digest: `kid:hex(HMAC-SHA256(key, digest))`."""
    return f"{kid}:{_hmac_digest(key, digest, 'sha256').hex()}"


def content_digest(event_id: int, seq: int, mac: str, digest: bytes) -> bytes:
    """What the chain links for an event: its id, position and authenticator, and its body
    (through the body digest). A key id never holds ":", so the bytes are unambiguous."""
    return _sha256(f"{event_id}:{seq}:{mac}:".encode() + digest).digest()


def link_digest(prev_hash: str, content: bytes) -> str:
    return _sha256(prev_hash.encode() + content).hexdigest()


def link(prev_hash: str, row: dict[str, Any]) -> str:
    """The hash of an event (a dict of its columns) chained after `prev_hash`."""
    digest = body_digest([row[name] for name in BODY_FIELDS])
    return link_digest(prev_hash, content_digest(row["id"], row["chain_seq"], row["mac"], digest))


# A function that tells whether a MAC is right for a body digest (it holds the keys).
MacCheck = Callable[[str, bytes], bool]


@dataclass
class Verification:
    valid: bool
    checked: int
    first_invalid: int | None  # the event id where the chain first breaks
    reason: str = ""


def verify_links(rows: Iterable[Any], mac_ok: MacCheck) -> Verification:
    """Walk sealed events in chain order, each as (id, chain_seq, prev_hash, hash, mac, body
    digest, content digest); name the first event whose position, link, authenticator or
    content is wrong."""
    sha256 = _sha256
    prev, expected_seq, checked = GENESIS, 1, 0
    for event_id, seq, prev_hash, stored, mac, body, content in rows:
        checked += 1
        if seq != expected_seq:
            reason = "an event is missing before this one" if seq > expected_seq else "out of order"
            return Verification(False, checked, event_id, reason)
        if prev_hash != prev:
            return Verification(False, checked, event_id, "does not link to the event before it")
        if not mac_ok(mac, body):
            return Verification(
                False,
                checked,
                event_id,
                "its content was changed, or it was not written by the portal (bad authenticator)",
            )
        digest = sha256(prev.encode() + content).hexdigest()
        if digest != stored:
            return Verification(False, checked, event_id, "its content was changed")
        prev, expected_seq = digest, expected_seq + 1
    return Verification(True, checked, None)


def verify_tuples(rows: Iterable[Any], mac_ok: MacCheck) -> Verification:
    """Walk sealed events as (id, chain_seq, BODY_FIELDS…, mac, prev_hash, hash) raw from a
    cursor, computing both digests in Python (see `verify_links`)."""
    n = len(BODY_FIELDS)

    def digests() -> Iterator[tuple]:
        for raw in rows:
            event_id, seq = raw[0], raw[1]
            mac, body = raw[2 + n], body_digest(raw[2 : 2 + n])
            content = content_digest(event_id, seq, mac, body)
            yield event_id, seq, raw[3 + n], raw[4 + n], mac, body, content

    return verify_links(digests(), mac_ok)


def iter_chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
