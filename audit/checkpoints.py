"""Signed checkpoints of the chain head, exported outside the database, and their comparison.

A checkpoint states "the chain had `chain_seq` events and ended in `head_hash`". Checkpoints
are numbered from 1 and each one signs the signature of the one before, so the exported series
cannot lose a member in the middle unnoticed. They are signed with the audit key (never in the
database) and handed, as they are made, to every exporter in `AUDIT_CHECKPOINT_EXPORTERS`: by
default one JSON file each in `AUDIT_CHECKPOINT_DIR`, a folder the database role cannot write.

An exporter is any callable `export(checkpoint: dict) -> None` (dotted path in the setting). It
must be idempotent (the same checkpoint may be handed over again) and raise
`CheckpointConflict` when it already holds a *different* checkpoint of that number: that is how
a rewrite of the database's checkpoints shows. Write-once object storage (for example a bucket
with object lock in compliance mode) is the intended production target; see docs/audit.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .chain import micros

FIELDS = ("number", "chain_seq", "head_hash", "created_at", "prev_signature", "key_id")


class CheckpointConflict(RuntimeError):
    """An exporter already holds a different checkpoint under the same number."""


def signed_bytes(checkpoint: dict[str, Any]) -> bytes:
    created = checkpoint["created_at"]
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    return json.dumps(
        [
            checkpoint["number"],
            checkpoint["chain_seq"],
            checkpoint["head_hash"],
            micros(created),
            checkpoint["prev_signature"],
            checkpoint["key_id"],
        ]
    ).encode()


def sign(key: bytes, checkpoint: dict[str, Any]) -> str:
    return hmac.new(key, signed_bytes(checkpoint), hashlib.sha256).hexdigest()


def signature_ok(keys: dict[str, bytes], checkpoint: dict[str, Any]) -> bool:
    key = keys.get(checkpoint.get("key_id") or "")
    return key is not None and hmac.compare_digest(
        str(checkpoint.get("signature") or ""), sign(key, checkpoint)
    )


def as_dict(checkpoint: Any) -> dict[str, Any]:
    """A checkpoint row as the JSON object exporters keep."""
    return {
        "number": checkpoint.number,
        "chain_seq": checkpoint.chain_seq,
        "head_hash": checkpoint.head_hash,
        "created_at": checkpoint.created_at.isoformat(),
        "prev_signature": checkpoint.prev_signature,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(
        (micros(datetime.fromisoformat(a[f])) == micros(datetime.fromisoformat(b[f])))
        if f == "created_at"
        else a.get(f) == b.get(f)
        for f in (*FIELDS, "signature")
    )


# --- Exporters -----------------------------------------------------------------------------------


def export_to_directory(checkpoint: dict[str, Any], directory: str | Path | None = None) -> None:
    """Write the checkpoint to `<dir>/<number>.json` once, read-only; never overwrite."""
    folder = Path(directory or settings.AUDIT_CHECKPOINT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{checkpoint['number']:012d}.json"
    data = json.dumps(checkpoint, sort_keys=True).encode()
    if path.exists():
        if not _same(json.loads(path.read_bytes()), checkpoint):
            raise CheckpointConflict(f"{path} holds a different checkpoint {checkpoint['number']}")
        return
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o444)
    try:
        os.link(tmp, path)  # atomic, and never replaces a file another process wrote
    except FileExistsError:
        if not _same(json.loads(path.read_bytes()), checkpoint):
            raise CheckpointConflict(
                f"{path} holds a different checkpoint {checkpoint['number']}"
            ) from None
    finally:
        tmp.unlink(missing_ok=True)


def read_directory(directory: str | Path) -> list[dict[str, Any]] | None:
    """The checkpoints exported to a folder, by number; None when there is no such folder."""
    folder = Path(directory)
    if not folder.is_dir():
        return None
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append(json.loads(path.read_bytes()))
        except (OSError, ValueError):
            found.append({"number": None, "file": path.name, "unreadable": True})
    return found


def exporters() -> list[Callable[[dict[str, Any]], None]]:
    return [import_string(path) for path in settings.AUDIT_CHECKPOINT_EXPORTERS]


# --- Comparison ----------------------------------------------------------------------------------


def series_problem(
    checkpoints: Iterable[dict[str, Any]], keys: dict[str, bytes], where: str
) -> str:
    """What is wrong with a series of checkpoints on its own: an unreadable or badly signed
    member, a gap in the numbers, or a member that does not sign the one before."""
    previous = ""
    expected = 1
    for checkpoint in sorted(checkpoints, key=lambda c: c.get("number") or 0):
        number = checkpoint.get("number")
        if checkpoint.get("unreadable") or not isinstance(number, int):
            return f"a checkpoint {where} is unreadable or from an older format"
        if number != expected:
            return f"checkpoint {expected} is missing {where}"
        if (checkpoint.get("key_id") or "") not in keys:
            return (
                f"checkpoint {number} {where} has a bad signature: it names the key "
                f"{checkpoint.get('key_id')!r}, which is not in the keyring (a retired key must "
                "stay in PORTAL_AUDIT_OLD_SIGNING_KEYS)"
            )
        if not signature_ok(keys, checkpoint):
            return f"checkpoint {number} {where} has a bad signature"
        if checkpoint["prev_signature"] != previous:
            return f"checkpoint {number} {where} does not follow checkpoint {number - 1}"
        previous, expected = checkpoint["signature"], expected + 1
    return ""


def compare(
    database: list[dict[str, Any]], exported: list[dict[str, Any]] | None, keys: dict[str, bytes]
) -> tuple[str, list[str]]:
    """Problems (the first one) and warnings from the database's and the exported series."""
    problem = series_problem(database, keys, "in the database")
    if problem:
        return problem, []
    if exported is None:
        return "", ["no exported checkpoints to compare with"]
    problem = series_problem(exported, keys, "in the export")
    if problem:
        return problem, []
    in_database = {c["number"]: c for c in database}
    for checkpoint in exported:
        own = in_database.get(checkpoint["number"])
        if own is None:
            return (
                f"checkpoint {checkpoint['number']} was exported but is not in the database "
                "(checkpoints were removed)",
                [],
            )
        if not _same(own, checkpoint):
            return f"checkpoint {checkpoint['number']} differs from its exported copy", []
    newest = max((c["number"] for c in exported), default=0)
    unexported = [n for n in in_database if n > newest]
    warnings = [f"{len(unexported)} checkpoint(s) not exported yet"] if unexported else []
    return "", warnings
