"""The portal's side of tools/pitr_drill.sh, run against the throwaway cluster (DATABASE_URL):

pitr_steps.py submit [--checkpoint]   a citizen submits a moving-house application; the
                                      audit log is sealed (and signed: a checkpoint,
                                      exported); prints the application's reference
pitr_steps.py check PRESENT ABSENT    after the point-in-time restore: PRESENT is there,
                                      ABSENT is not, the audit chain verifies against the
                                      exported checkpoints; exit status 0 only then
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from audit.actions import audit_checkpoint, audit_seal  # noqa: E402
from audit.selectors import audit_verify  # noqa: E402
from services.models import Application  # noqa: E402
from tests.factories import UserFactory, submit_moving  # noqa: E402


def submit(checkpoint: bool) -> None:
    citizen = UserFactory(email=f"pitr-{os.urandom(4).hex()}@example.org")
    application = submit_moving(citizen=citizen)
    while audit_seal():
        pass
    if checkpoint:
        with transaction.atomic():
            audit_checkpoint(force=True)
    print(application.reference)


def check(present: str, absent: str) -> int:
    found = set(
        Application.objects.filter(reference__in=[present, absent]).values_list(
            "reference", flat=True
        )
    )
    result = audit_verify()
    report = {
        "earlier_present": present in found,
        "later_absent": absent not in found,
        "audit_valid": result["valid"],
        "audit_checked": result["checked"],
        "exported_checkpoints": result["exported_checkpoints"],
        "reason": result["reason"],
    }
    print(json.dumps(report))
    ok = report["earlier_present"] and report["later_absent"] and report["audit_valid"]
    return 0 if ok and result["exported_checkpoints"] else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["submit"]:
        submit("--checkpoint" in sys.argv[2:])
    elif sys.argv[1:2] == ["check"] and len(sys.argv) == 4:
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
