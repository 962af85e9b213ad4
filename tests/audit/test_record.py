"""audit_record: in the caller's transaction, with the request id and IP of the request."""

import json
import logging

import pytest
from django.db import transaction

from audit.actions import AuditError, audit_record
from audit.models import AuditEvent
from core.context import bind_context, clean_request_id, reset_context
from core.logging import JsonFormatter, RequestContextFilter
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_recording_outside_a_transaction_is_refused():
    with pytest.raises(AuditError, match="inside"):
        audit_record(action="user.update", actor=None)
    assert not AuditEvent.objects.exists()


def test_event_is_rolled_back_with_the_action():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="user.update", actor=None)
        raise RuntimeError("the action failed after recording")
    assert not AuditEvent.objects.exists()


def test_details_must_be_flat_scalars():
    with pytest.raises(AuditError), transaction.atomic():
        audit_record(action="user.update", actor=None, details={"answers": {"name": "x"}})


def test_event_carries_the_bound_request_context():
    token = bind_context(request_id="req-12345678", ip="203.0.113.9", source="api")
    try:
        with transaction.atomic():
            event = audit_record(action="user.update", actor=None, details={"fields": ["email"]})
    finally:
        reset_context(token)
    assert (event.request_id, event.ip, event.source, event.actor_role) == (
        "req-12345678",
        "203.0.113.9",
        "api",
        "system",
    )


def test_a_sign_in_records_an_event_with_the_responses_request_id(client):
    user = UserFactory()
    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD},
        HTTP_X_REQUEST_ID="abcdef0123456789",
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "abcdef0123456789"
    event = AuditEvent.objects.get(action="account.login")
    assert (event.actor, event.request_id, event.ip) == (user, "abcdef0123456789", "127.0.0.1")


def test_failed_sign_in_is_recorded_without_the_attempted_email(client):
    client.post("/accounts/login/", {"login": "who@example.org", "password": "wrong-password"})
    event = AuditEvent.objects.get(action="account.login_failed")
    assert event.actor is None
    assert "who@example.org" not in json.dumps(event.details)


@pytest.mark.parametrize(
    "header", ["", "short", "has spaces in it!", "x" * 65, "<script>alert(1)</script>"]
)
def test_unusable_request_ids_are_replaced(header):
    cleaned = clean_request_id(header)
    assert cleaned != header
    assert len(cleaned) == 32


def test_json_log_lines_carry_the_request_id():
    token = bind_context(request_id="req-abcdefgh", ip=None, source="web")
    try:
        record = logging.LogRecord(
            "portal", logging.INFO, __file__, 1, "hello %s", ("world",), None
        )
        RequestContextFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        reset_context(token)
    assert line["message"] == "hello world"
    assert line["request_id"] == "req-abcdefgh"
    assert line["source"] == "web"
