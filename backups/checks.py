"""What a drill checks in the database it restored (run by `manage.py backup_check` in a
process whose default database is the scratch one): the row counts and the audit chain against
the archive's manifest, the signed checkpoint, and that the live keys open a sample of sealed
values and attachment files."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from django.db import connection

from audit.checkpoints import _same, as_dict, signature_ok
from audit.models import AuditCheckpoint, AuditEvent
from audit.selectors import audit_verify
from privacy.keyring import signing_keys
from services.models import Application, Attachment
from services.selectors import application_answers, attachment_content

from .sweep import orphan_files


def check_restored(manifest: dict[str, Any], *, sample: int, media_root: Path) -> dict[str, Any]:
    """The drill's findings: `problems` is empty when the restore is complete and intact."""
    problems: list[str] = []
    report: dict[str, Any] = {}
    with connection.cursor() as cursor:
        counts = {}
        for table in manifest["tables"]:
            try:
                cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                counts[table] = cursor.fetchone()[0]
            except Exception:
                counts[table] = None
    differ = {t: (n, counts[t]) for t, n in manifest["tables"].items() if counts[t] != n}
    if differ:
        problems.append(f"row counts differ from the manifest in {len(differ)} table(s)")
    report["tables"] = len(counts)
    report["rows"] = sum(n or 0 for n in counts.values())
    report["count_differences"] = {t: list(v) for t, v in differ.items()}

    verification = audit_verify(exported=None)
    report["audit"] = {k: verification[k] for k in ("valid", "checked", "reason", "checkpoints")}
    if not verification["valid"]:
        problems.append(f"the audit chain does not verify: {verification['reason']}")
    problems += _against_manifest(manifest["audit"])

    report["sealed_values"], failures = _open_sample(sample)
    problems += failures
    report["orphaned_files"] = len(orphan_files(media_root, min_age_seconds=0))
    report["missing_files"] = _missing_files(media_root)
    if report["missing_files"]:
        problems.append(f"{len(report['missing_files'])} attachment file(s) missing")
    report["problems"] = problems
    report["ok"] = not problems
    return report


def _against_manifest(audit: dict[str, Any]) -> list[str]:
    problems = []
    head = AuditEvent.objects.filter(chain_seq__isnull=False).order_by("-chain_seq").first()
    expected = audit.get("head")
    found = {"chain_seq": head.chain_seq, "hash": head.hash} if head else None
    if found != expected:
        problems.append("the restored audit chain does not end where the manifest says")
    checkpoint = audit.get("checkpoint")
    if checkpoint:
        if not signature_ok(signing_keys(), checkpoint):
            problems.append(
                f"the manifest's checkpoint {checkpoint['number']} is not signed by the audit keys"
            )
        own = AuditCheckpoint.objects.filter(number=checkpoint["number"]).first()
        if own is None or not _same(as_dict(own), checkpoint):
            problems.append(
                f"the restored checkpoint {checkpoint['number']} differs from the manifest's"
            )
        at = AuditEvent.objects.filter(chain_seq=checkpoint["chain_seq"]).first()
        if at is None or at.hash != checkpoint["head_hash"]:
            problems.append(
                f"the restored chain disagrees with signed checkpoint {checkpoint['number']}"
            )
    return problems


def _pick(queryset, size: int) -> list:
    ids = list(queryset.values_list("pk", flat=True)[:100_000])
    return list(queryset.filter(pk__in=random.sample(ids, min(size, len(ids)))))


def _open_sample(size: int) -> tuple[dict[str, int], list[str]]:
    opened = {"applications": 0, "attachments": 0}
    failures: list[str] = []
    for application in _pick(Application.objects.filter(erased_at__isnull=True), size):
        try:
            application_answers(application)
            opened["applications"] += 1
        except Exception as exc:
            failures.append(f"application {application.reference}: {type(exc).__name__}")
    attachments = Attachment.objects.select_related("application").exclude(file="")
    for attachment in _pick(attachments, size):
        try:
            _name = attachment.name_plain
            content = attachment_content(attachment)
            if hashlib.sha256(content).hexdigest() != attachment.sha256:
                raise ValueError("content differs from its checksum")
            opened["attachments"] += 1
        except Exception as exc:
            failures.append(f"attachment {attachment.token}: {type(exc).__name__}: {exc}")
    return opened, failures[:20]


def _missing_files(media_root: Path) -> list[str]:
    names = Attachment.objects.exclude(file="").values_list("file", flat=True)
    return [n for n in names.iterator() if not (media_root / n).is_file()][:20]
