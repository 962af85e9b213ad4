"""A department's system set up as docs/integrations.md says, end to end over real HTTP: its
lead registers a service account with a scoped token and a webhook subscription; the system's
receiver (tests/integrations/receiver.py, on 127.0.0.1) gets `case.opened`, fetches the case
through the API with its token, approves it through the API, and then receives `case.closed`.
The real worker and beat send the webhooks; the API is served by the live server."""

from __future__ import annotations

import httpx
import pytest

from accounts import service_accounts
from accounts.models import Department, User
from audit.models import AuditEvent
from integrations.actions import subscription_create
from integrations.constants import EventType
from tests.factories import submit_moving
from workflows.models import Case

pytestmark = [pytest.mark.services, pytest.mark.worker]


def _service_account_token(lead: User) -> str:
    """The tax office's lead registers its system as a service account answerable to them, with
    a token that reads and decides cases (the key is shown once)."""
    account = service_accounts.service_account_create(
        actor=lead,
        department=Department.objects.get(slug="tax"),
        label="Tax back office",
        responsible=lead,
    )
    issued = service_accounts.service_token_issue(
        actor=lead, account=account, scopes=["cases:read", "cases:decide"], days=30
    )
    return issued.key


def _case_events(receiver, reference: str) -> list[str]:
    return receiver.events().get(reference, [])


def test_a_department_system_receives_its_case_and_decides_it_through_the_api(
    live_worker, live_beat, live_server, demo, require_postgres, live_receiver
):
    receiver = live_receiver
    lead = User.objects.get(email="lead.tax@demo.gov")
    key = _service_account_token(lead)
    created = subscription_create(
        actor=lead,
        department=Department.objects.get(slug="tax"),
        url=receiver.url,
        events=[EventType.CASE_OPENED, EventType.CASE_CLOSED],
        label="Tax back office",
    )
    receiver.secret = created.secret

    application = submit_moving()  # routed by the worker: the tax office's case opens
    opened = receiver.wait_until(1, diagnostics=live_worker.output)
    (delivery,) = opened["accepted"].values()
    event = delivery.payload()
    assert event["type"] == "case.opened"
    reference = event["data"]["case"]
    assert Case.objects.get(reference=reference).application_id == application.pk
    assert "answers" not in event["data"]  # no personal values: the system fetches them

    system = httpx.Client(
        base_url=live_server.url,
        headers={"Authorization": f"Token {key}", "Accept": "application/json"},
        timeout=30,
    )
    with system:
        case = system.get(event["data"]["case_url"])
        assert case.status_code == 200, case.text
        assert case.json()["reference"] == reference
        decided = system.post(f"/api/v1/cases/{reference}/approve/", json={"note": "In order."})
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "approved"
        # Its token reaches only what its scopes and department allow.
        assert system.get("/api/v1/applications/").status_code in (401, 403)

    receiver.wait_until(2, diagnostics=live_worker.output)
    assert _case_events(receiver, reference) == ["case.opened", "case.closed"]
    assert receiver.sequences()[reference] == [1, 2]
    assert receiver.snapshot()["refused"] == []

    # Audited as the system, with the official answerable for it.
    approval = AuditEvent.objects.get(action="case.approve", target_ref=reference)
    assert approval.actor.service_department.slug == "tax"
    assert approval.details["responsible"] == lead.pk
