"""Verifying the audit log runs as a background job: a supervisor starts it through the API, a
real worker recomputes the chain and writes its progress, and the result is polled at the job's
url (with the fields the endpoint answered when it verified within the request)."""

from __future__ import annotations

import pytest
from django.db import transaction

from audit.actions import audit_record, audit_seal
from audit.models import AuditEvent, AuditVerification
from audit.selectors import audit_verify
from audit.verifications import audit_verification_request
from tests.factories import api_for
from tests.support import wait_for


def _events(n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            audit_record(action="user.update", actor=None, details={"i": i})
    while audit_seal():
        pass


@pytest.mark.django_db
def test_progress_is_reported_after_each_batch():
    _events(7)
    seen: list[int] = []
    result = audit_verify(chunk_size=3, exported=None, progress=seen.append)
    assert result["valid"]
    assert seen == [3, 6, 7]


@pytest.mark.django_db
def test_a_second_request_joins_the_verification_under_way(demo):
    first, created = audit_verification_request(actor=None)
    again, created_again = audit_verification_request(actor=None)
    assert created and not created_again
    assert again.pk == first.pk
    assert AuditEvent.objects.filter(action="audit.verify").count() == 1


def test_the_worker_verifies_and_the_api_reports_progress_then_the_result(live_worker, demo):
    _events(30)
    api = api_for("supervisor@demo.gov")
    started = api.post("/api/v1/audit/verify/")
    assert started.status_code == 202
    url = started.json()["url"]
    assert started.json()["total"] == AuditEvent.objects.exclude(chain_seq=None).count()

    def finished():
        body = api.get(url).json()
        return body if body["status"] in ("done", "failed") else None

    body = wait_for(finished, timeout=60, diagnostics=live_worker.output)
    assert body["status"] == "done", body
    assert body["valid"] is True
    assert body["checked"] == body["total"] > 30
    assert body["progress"] == 1.0
    assert body["started_at"] and body["finished_at"]
    assert api.get("/api/v1/audit/verify/").json()["id"] == body["id"]
    assert AuditVerification.objects.get().result["valid"] is True


@pytest.mark.django_db
def test_citizens_cannot_start_or_read_a_verification(demo):
    api = api_for("citizen@demo.gov")
    assert api.post("/api/v1/audit/verify/").status_code == 403
    job, _ = audit_verification_request(actor=None)
    assert api.get(f"/api/v1/audit/verify/{job.pk}/").status_code == 403
    assert api_for("supervisor@demo.gov").get("/api/v1/audit/verify/999999999/").status_code == 404
