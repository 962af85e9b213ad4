"""Supervisors search, export and verify the audit log and read an application's history;
citizens see who looked at their data and why."""

import csv
import io

import pytest
from django.test import Client

from accounts.models import User
from audit.actions import audit_seal
from audit.models import AuditEvent
from audit.verifications import audit_verification_run
from tests.factories import api_for, case_and_clerk
from workflows import actions

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked_tax_case(demo):
    case, clerk = case_and_clerk()
    actions.case_read_record(case=case, actor=clerk, fields=["applicant.national_id"])
    actions.case_reveal(
        case=case, actor=clerk, fields=["applicant.national_id"], purpose="Matching the tax record"
    )
    actions.case_approve(case=case, actor=clerk, note="ok")
    return case.application, case


def test_supervisor_searches_by_target_actor_and_action(worked_tax_case):
    _application, case = worked_tax_case
    api = api_for("supervisor@demo.gov")
    body = api.get(f"/api/v1/audit/events/?target={case.reference}&action=pii.reveal").json()
    assert [e["purpose"] for e in body["results"]] == ["Matching the tax record"]
    mine = api.get("/api/v1/audit/events/?actor=clerk.tax@demo.gov").json()["results"]
    assert {e["action"] for e in mine} >= {"pii.read", "pii.reveal", "case.approve"}
    assert api.get("/api/v1/audit/events/?since=yesterday").status_code == 400


def test_verify_endpoint(worked_tax_case):
    audit_seal()
    api = api_for("supervisor@demo.gov")
    first = api.get("/api/v1/audit/verify/")  # none has run yet: reading starts one
    assert first.status_code == 202 and first.json()["valid"] is None
    started = api.post("/api/v1/audit/verify/")  # joins the one under way
    assert started.status_code == 202 and started.json()["id"] == first.json()["id"]
    assert started.json()["status"] == "queued" and started.json()["valid"] is None
    audit_verification_run(job_id=started.json()["id"])  # what the worker does
    body = api.get("/api/v1/audit/verify/").json()
    assert body["id"] == started.json()["id"] and body["status"] == "done"
    assert body["valid"] is True and body["first_invalid"] is None
    assert body["checked"] == AuditEvent.objects.exclude(chain_seq=None).count() > 0
    assert body["progress"] == 1.0


def test_application_history_spans_every_department(worked_tax_case):
    application, _case = worked_tax_case
    history = f"/api/v1/audit/applications/{application.reference}/history/"
    rows = api_for("admin@demo.gov").get(history).json()
    actions_seen = [r["action"] for r in rows["results"]]
    assert actions_seen[0] == "application.create"
    assert {"application.submit", "case.create", "case.approve", "pii.reveal"} <= set(actions_seen)
    departments = {r["department"] for r in rows["results"] if r["department"]}
    assert {"tax", "household-registration"} <= departments


def test_csv_export_is_audited(worked_tax_case, client):
    client.force_login(User.objects.get(email="supervisor@demo.gov"))
    response = client.get("/audit/export.csv?action=pii.reveal")
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["purpose"] for r in rows] == ["Matching the tax record"]
    export = AuditEvent.objects.get(action="audit.export")
    assert export.details == {"action": "pii.reveal", "rows": 1}


def test_a_search_by_email_keeps_the_email_out_of_every_address(worked_tax_case, client):
    application, _case = worked_tax_case
    client.force_login(User.objects.get(email="supervisor@demo.gov"))
    email = application.citizen.email
    response = client.post("/audit/", {"subject": email, "action": "pii.reveal"})
    assert response.status_code == 302
    address = response["Location"]
    assert email not in address and "%40" not in address and "search=" in address
    page = client.get(address).content.decode()
    assert "Matching the tax record" in page
    assert f'name="subject" value="{email}"' in page  # the form shows what was searched
    # The CSV link carries the same key, and exports the same events.
    export = address.replace("/audit/?", "/audit/export.csv?")
    content = b"".join(client.get(export).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["purpose"] for r in rows] == ["Matching the tax record"]
    assert email not in export
    # The key means nothing in another session: it does not hand over the search.
    other = Client()
    other.force_login(User.objects.get(email="admin@demo.gov"))
    assert f'value="{email}"' not in other.get(address).content.decode()


def test_search_page_shows_verification(worked_tax_case, client):
    client.force_login(User.objects.get(email="supervisor@demo.gov"))
    audit_seal()
    body = client.get("/audit/?verify=1").content.decode()
    assert "The chain is intact" in body


def test_citizen_sees_who_looked_at_their_data(worked_tax_case):
    application, _case = worked_tax_case
    body = api_for(application.citizen).get("/api/v1/me/data-access/").json()
    reveal = next(r for r in body["results"] if r["action"] == "pii.reveal")
    assert reveal["department"] == "Tax Bureau"
    assert reveal["staff"] == "Clerk (Tax Bureau)"
    assert reveal["fields"] == ["applicant.national_id"]
    assert reveal["purpose"] == "Matching the tax record"
    assert {r["action"] for r in body["results"]} == {"pii.read", "pii.reveal"}


def test_citizen_page_and_nobody_elses_data(worked_tax_case, client):
    application, _case = worked_tax_case
    client.force_login(application.citizen)
    page = client.get("/me/data-access/").content.decode()
    assert "Matching the tax record" in page and "Tax Bureau" in page
    other = User.objects.get(email="citizen2@demo.gov")
    assert api_for(other).get("/api/v1/me/data-access/").json()["results"] == []


def test_citizen_downloads_all_their_data(worked_tax_case, client):
    application, _case = worked_tax_case
    body = api_for(application.citizen).get("/api/v1/me/export/").json()
    exported = body["applications"][0]
    assert exported["reference"] == application.reference
    assert exported["answers"]["applicant.national_id"] == "11010519491231002X"
    assert {c["department"] for c in exported["cases"]} == {"household-registration", "tax"}
    assert any(r["purpose"] == "Matching the tax record" for r in body["data_access"])
    assert AuditEvent.objects.filter(action="data.export", subject=application.citizen).count() == 1
    client.force_login(application.citizen)
    response = client.get("/me/export.json")
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert application.reference in response.content.decode()
    other = api_for("citizen2@demo.gov").get("/api/v1/me/export/").json()
    assert other["applications"] == []


def test_a_redelivered_verification_task_does_not_run_the_job_twice(worked_tax_case, monkeypatch):
    """The worker claims the queued job with a conditional update: a second delivery of the
    task, while the first runs or after it finished, finds nothing to claim."""
    from audit import verifications

    audit_seal()
    job, created = verifications.audit_verification_request(actor=None)
    assert created
    runs = []
    real = verifications.audit_verify

    def verify(**kwargs):
        runs.append(verifications.audit_verification_run(job_id=job.pk).status)  # redelivered
        return real(**kwargs)

    monkeypatch.setattr(verifications, "audit_verify", verify)
    done = verifications.audit_verification_run(job_id=job.pk)
    assert runs == ["running"] and done.status == "done"
    assert verifications.audit_verification_run(job_id=job.pk).status == "done"
    assert len(runs) == 1
