"""A department's system set up as docs/integrations.md says, end to end over real HTTP: its
lead registers, through the API, a service account with a scoped token and a webhook
subscription; the system's
receiver (tests/integrations/receiver.py, on 127.0.0.1) gets `case.opened`, fetches the case
through the API with its token, approves it through the API, and then receives `case.closed`.
The real worker and beat send the webhooks; the API is served by the live server."""

from __future__ import annotations

import httpx
import pytest

from accounts.models import User
from accounts.token_actions import token_issue
from audit.models import AuditEvent
from tests.factories import submit_moving
from workflows.models import Case

pytestmark = [pytest.mark.services, pytest.mark.worker]


def _set_up(portal: httpx.Client, receiver_url: str) -> tuple[str, str]:
    """What docs/integrations.md tells the tax office's lead to send: a service account
    answerable to them with a token that reads and decides cases, and a subscription of the
    system's endpoint. Returns (the system's key, the signing secret)."""
    account = portal.post(
        "/api/v1/service-accounts/",
        json={"department": "tax", "label": "Tax back office", "responsible": "lead.tax@demo.gov"},
    )
    assert account.status_code == 201, account.text
    token = portal.post(
        f"/api/v1/service-accounts/{account.json()['id']}/tokens/",
        json={"scopes": ["cases:read", "cases:decide"], "days": 90, "label": "production"},
    )
    assert token.status_code == 201, token.text
    subscription = portal.post(
        "/api/v1/webhooks/",
        json={
            "department": "tax",
            "url": receiver_url,
            "events": ["case.opened", "case.changed", "case.closed"],
            "label": "Tax back office",
        },
    )
    assert subscription.status_code == 201, subscription.text
    return token.json()["key"], subscription.json()["secret"]


def _client(base_url: str, key: str) -> httpx.Client:
    headers = {"Authorization": f"Token {key}", "Accept": "application/json"}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


def _case_events(receiver, reference: str) -> list[str]:
    return receiver.events().get(reference, [])


def test_a_department_system_receives_its_case_and_decides_it_through_the_api(
    require_postgres, live_worker, live_beat, live_server, demo, live_receiver
):
    receiver = live_receiver
    lead = User.objects.get(email="lead.tax@demo.gov")
    with _client(live_server.url, token_issue(actor=None, user=lead).key) as portal:
        key, receiver.secret = _set_up(portal, receiver.url)

    application = submit_moving()  # routed by the worker: the tax office's case opens
    opened = receiver.wait_until(1, diagnostics=live_worker.output)
    (delivery,) = opened["accepted"].values()
    event = delivery.payload()
    assert event["type"] == "case.opened"
    reference = event["data"]["case"]
    assert Case.objects.get(reference=reference).application_id == application.pk
    assert "answers" not in event["data"]  # no personal values: the system fetches them

    with _client(live_server.url, key) as system:
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
