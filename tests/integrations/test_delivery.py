"""The outbox and its sending: deliveries written with the change, numbered per case, signed
as Standard Webhooks, sent in order, retried with backoff, and logged."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import httpx
import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from audit.models import AuditEvent
from audit.presenters import access_rows
from audit.selectors import data_access_for_citizen
from integrations import actions, delivery
from integrations.constants import DeliveryStatus, SubscriptionStatus
from integrations.models import Delivery, Subscription, WebhookIncident
from tests.data import LI_WEI_MOVING
from tests.factories import ApplicationFactory, clerk_of
from tests.integrations.receiver import LocalReceiver
from workflows import actions as workflow_actions

pytestmark = pytest.mark.django_db


def _route():
    application = ApplicationFactory(routed=True, vehicle=True)
    return application, application.cases.select_related("department").get(step="tax")


def test_routing_writes_a_delivery_per_new_case_without_personal_values(tax_subscription):
    created, _admin = tax_subscription
    application, case = _route()
    rows = list(Delivery.objects.filter(subscription=created.subscription))
    assert [(d.event, d.case_id, d.sequence) for d in rows] == [("case.opened", case.pk, 1)]
    data = rows[0].payload["data"]
    assert data["subscription"] == created.subscription.pk
    assert data["case"] == case.reference and data["application"] == application.reference
    assert data["department"] == "tax" and data["step"] == "tax"
    assert data["fields"] == case.fields and data["case_url"] == f"/api/v1/cases/{case.reference}/"
    assert "answers" not in data
    text = json.dumps(rows[0].payload, ensure_ascii=False)
    for value in LI_WEI_MOVING.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in text


def test_each_change_takes_the_next_sequence_and_closing_is_case_closed(tax_subscription):
    created, _admin = tax_subscription
    _application, case = _route()
    clerk = clerk_of(case.department)
    case = workflow_actions.case_claim(case=case, actor=clerk)
    workflow_actions.case_approve(case=case, actor=clerk)
    rows = Delivery.objects.filter(subscription=created.subscription, case=case).order_by(
        "sequence"
    )
    assert [(d.event, d.sequence, d.payload["data"]["status"]) for d in rows] == [
        ("case.opened", 1, "open"),
        ("case.changed", 2, "in_progress"),
        ("case.closed", 3, "approved"),
    ]


def test_a_change_rolled_back_leaves_no_delivery(tax_subscription):
    _application, case = _route()
    before = Delivery.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow_actions.case_claim(case=case, actor=clerk_of(case.department))
        assert Delivery.objects.count() == before + 1
        raise RuntimeError("the change fails after the claim")
    assert Delivery.objects.count() == before


def test_only_the_events_asked_for_and_only_the_department_s_cases(tax_subscription):
    created, admin = tax_subscription
    actions.subscription_update(
        actor=admin, subscription=created.subscription, events=["case.closed"]
    )
    _application, case = _route()
    clerk = clerk_of(case.department)
    workflow_actions.case_claim(case=case, actor=clerk)
    assert not Delivery.objects.exists()
    workflow_actions.case_approve(case=case, actor=clerk)
    assert list(Delivery.objects.values_list("event", "case__department__slug")) == [
        ("case.closed", "tax")
    ]


def test_withdrawal_tells_application_withdrawn_then_case_closed(tax_subscription):
    from services import actions as service_actions
    from workflows import routing

    application, case = _route()
    service_actions.application_withdraw(application=application, actor=application.citizen)
    routing.advance(application_id=application.pk)
    rows = Delivery.objects.filter(case=case).order_by("sequence")
    assert [(d.event, d.sequence) for d in rows] == [
        ("case.opened", 1),
        ("application.withdrawn", 2),
        ("case.closed", 3),
    ]
    assert rows[2].payload["data"]["status"] == "cancelled"


def test_sent_signed_and_verified_by_the_receiver_library(tax_subscription, webhook_receiver):
    created, _admin = tax_subscription
    _route()
    assert delivery.send_due() == 1
    (request,) = webhook_receiver.requests
    assert request.headers["host"] == "127.0.0.1"
    body = Webhook(created.secret).verify(request.content, dict(request.headers))
    assert body["type"] == "case.opened"
    assert request.headers["webhook-id"] == Delivery.objects.get().message_id
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 44).verify(request.content, dict(request.headers))
    forged = {**request.headers, "webhook-signature": "v1,AAAA"}
    with pytest.raises(WebhookVerificationError):
        Webhook(created.secret).verify(request.content, forged)
    sent = Delivery.objects.get()
    assert (sent.status, sent.attempts, sent.last_status_code) == (DeliveryStatus.DELIVERED, 1, 204)
    assert sent.last_latency_ms is not None
    assert delivery.send_due() == 0


def test_a_replayed_old_message_is_refused_by_the_receiver(tax_subscription, webhook_receiver):
    created, _admin = tax_subscription
    _route()
    # Signed ten minutes ago: what an attacker replaying a captured request would send.
    past = timezone.now() - dt.timedelta(minutes=10)
    Delivery.objects.update(next_attempt_at=past)
    delivery.send_due(now=past)
    (request,) = webhook_receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(created.secret).verify(request.content, dict(request.headers))


def test_during_a_rotation_both_secrets_sign(tax_subscription, webhook_receiver):
    created, admin = tax_subscription
    new = actions.secret_rotate(
        actor=admin, subscription=created.subscription, overlap=dt.timedelta(hours=1)
    )
    _route()
    delivery.send_due()
    (request,) = webhook_receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (created.secret, new):
        Webhook(secret).verify(request.content, dict(request.headers))
    # After the overlap only the new secret signs.
    case = Delivery.objects.get().case
    workflow_actions.case_claim(case=case, actor=clerk_of(case.department))
    delivery.send_due(now=timezone.now() + dt.timedelta(hours=2))
    last = webhook_receiver.requests[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1


def test_personal_values_only_when_allowed_and_audited_as_the_system(
    tax_subscription, webhook_receiver
):
    created, admin = tax_subscription
    actions.subscription_update(
        actor=admin, subscription=created.subscription, include_personal=True
    )
    application, case = _route()
    delivery.send_due()
    (body,) = webhook_receiver.bodies()
    assert sorted(body["data"]["answers"]) == sorted(
        k for k in case.fields if k in body["data"]["answers"]
    )
    assert body["data"]["answers"] and set(body["data"]["answers"]) <= set(case.fields)
    assert "answers" not in Delivery.objects.get().payload["data"]  # never stored
    event = AuditEvent.objects.get(action="webhook.deliver")
    assert event.actor is None and event.actor_role == "system"
    assert event.subject == application.citizen and event.actor_department == case.department
    assert event.details["subscription"] == created.subscription.pk
    assert sorted(event.details["fields"]) == sorted(body["data"]["answers"])
    listed = access_rows(data_access_for_citizen(user=application.citizen))
    row = next(r for r in listed if r["action"] == "webhook.deliver")
    assert "Tax back office" in row["actor_line"] and "Department system" in row["actor_line"]
    response = _api(application.citizen).get("/api/v1/me/data-access/")
    assert any(r["action"] == "webhook.deliver" for r in response.json()["results"])


def _api(user):
    from tests.factories import api_client

    return api_client(user)


def test_http_and_private_addresses_are_refused(demo, settings):
    from accounts.models import Department, User

    admin = User.objects.get(email="admin@demo.gov")
    tax = Department.objects.get(slug="tax")
    settings.WEBHOOK_ALLOW_HTTP = False
    for url in (
        "http://127.0.0.1/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest",
        "https://[::ffff:192.168.0.1]/",
        "https://0.0.0.0/",
        "ftp://example.org/",
        "https://user:pw@127.0.0.1/",
        "not a url",
    ):
        with pytest.raises(actions.InvalidInput) as refused:
            actions.subscription_create(
                actor=admin, department=tax, url=url, events=["case.opened"]
            )
        assert "url" in refused.value.errors, url
    assert not Subscription.objects.exists()


def test_an_address_that_became_private_is_refused_at_send_time(tax_subscription, webhook_receiver):
    created, _admin = tax_subscription
    _route()
    Subscription.objects.filter(pk=created.subscription.pk).update(url="https://10.0.0.7/hooks")
    delivery.send_due()
    assert webhook_receiver.requests == []
    failed = Delivery.objects.get()
    assert failed.status == DeliveryStatus.PENDING and failed.attempts == 1
    assert "private" in failed.last_error


def test_a_redirect_is_not_followed_and_fails(tax_subscription, webhook_receiver):
    webhook_receiver.answer = lambda r: httpx.Response(
        302, headers={"location": "https://127.0.0.1/elsewhere"}, text="moved " * 100
    )
    _route()
    delivery.send_due()
    assert len(webhook_receiver.requests) == 1
    row = Delivery.objects.get()
    assert (row.status, row.last_status_code, row.attempts) == (DeliveryStatus.PENDING, 302, 1)
    assert len(row.response_prefix) == 200


def test_backoff_grows_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    highest = [delivery.backoff_seconds(n, rng=lambda: 1.0) for n in range(1, 12)]
    lowest = [delivery.backoff_seconds(n, rng=lambda: 0.0) for n in range(1, 12)]
    assert highest[:4] == [10, 20, 40, 80]
    assert lowest[:4] == [5, 10, 20, 40]
    assert highest[-1] == 3600 and max(highest) == 3600
    assert all(b >= a for a, b in itertools.pairwise(highest))
    assert all(lo >= hi for hi, lo in zip(highest, lowest[1:], strict=False) if hi * 2 <= 3600)


def test_failures_retry_later_then_failing_with_an_incident_then_recovery(
    tax_subscription, webhook_receiver, settings
):
    settings.WEBHOOK_FAILING_AFTER = 3
    settings.WEBHOOK_RETRY_MAX_SECONDS = 600
    _created, _admin = tax_subscription
    webhook_receiver.answer = lambda r: httpx.Response(500, text="down")
    _route()
    now = timezone.now()
    waits = []
    for _attempt in range(3):
        assert delivery.send_due(now=now) == 1
        assert delivery.send_due(now=now) == 0  # not due again at once
        row = Delivery.objects.get()
        waits.append((row.next_attempt_at - now).total_seconds())
        now = row.next_attempt_at
    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.FAILING
    assert subscription.consecutive_failures == 3
    incident = WebhookIncident.objects.get(resolved_at__isnull=True)
    assert incident.failures == 3 and "500" in incident.last_error
    assert waits[0] < waits[1] and waits[2] == 600  # failing: the longest interval
    assert AuditEvent.objects.filter(action="webhook.failing").count() == 1
    webhook_receiver.answer = lambda r: httpx.Response(200)
    delivery.send_due(now=now)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.consecutive_failures) == ("active", 0)
    assert not WebhookIncident.objects.filter(resolved_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="webhook.recover").count() == 1


def test_failed_after_the_last_attempt_then_replayed(tax_subscription, webhook_receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    created, admin = tax_subscription
    webhook_receiver.answer = lambda r: httpx.Response(503)
    _route()
    later = timezone.now() + dt.timedelta(days=1)
    delivery.send_due()
    delivery.send_due(now=later)
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 2)
    assert delivery.send_due(now=later + dt.timedelta(days=1)) == 0
    webhook_receiver.answer = lambda r: httpx.Response(200)
    assert actions.deliveries_replay_failed(actor=admin, subscription=created.subscription) == 1
    assert delivery.send_due() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert AuditEvent.objects.filter(action="webhook.replay").count() == 1


def test_a_later_event_of_a_case_waits_for_the_earlier_one(tax_subscription, webhook_receiver):
    _created, admin = tax_subscription
    webhook_receiver.answer = lambda r: httpx.Response(500)
    _application, case = _route()
    workflow_actions.case_claim(case=case, actor=clerk_of(case.department))
    assert delivery.send_due() == 1  # the opening only; the claim waits behind it
    assert webhook_receiver.events() == [("case.opened", case.reference, 1)]
    Delivery.objects.filter(sequence=1).update(status=DeliveryStatus.FAILED)
    assert delivery.send_due(now=timezone.now() + dt.timedelta(days=1)) == 0  # held back
    webhook_receiver.answer = lambda r: httpx.Response(200)
    first = Delivery.objects.get(sequence=1)
    actions.delivery_replay(actor=admin, delivery=first)
    delivery.send_due()
    delivery.send_due()
    assert webhook_receiver.events()[-2:] == [
        ("case.opened", case.reference, 1),
        ("case.changed", case.reference, 2),
    ]


def test_a_paused_subscription_sends_nothing_until_resumed(tax_subscription, webhook_receiver):
    created, admin = tax_subscription
    actions.subscription_pause(actor=admin, subscription=created.subscription)
    _route()
    assert Delivery.objects.count() == 1  # still recorded
    assert delivery.send_due() == 0
    actions.subscription_resume(actor=admin, subscription=created.subscription)
    assert delivery.send_due() == 1
    assert len(webhook_receiver.requests) == 1


def test_a_deleted_subscription_gets_and_sends_nothing(tax_subscription, webhook_receiver):
    created, admin = tax_subscription
    _route()
    actions.subscription_delete(actor=admin, subscription=created.subscription)
    _route()
    assert Delivery.objects.count() == 1
    assert delivery.send_due() == 0


def test_retention_deletes_old_delivered_rows_but_keeps_each_case_s_last(
    tax_subscription, webhook_receiver, settings
):
    settings.WEBHOOK_LOG_DAYS = 30
    _application, case = _route()
    workflow_actions.case_claim(case=case, actor=clerk_of(case.department))
    delivery.send_due()
    delivery.send_due()
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2
    assert delivery.purge_log() == 0
    assert delivery.purge_log(now=timezone.now() + dt.timedelta(days=31)) == 1
    assert list(Delivery.objects.values_list("sequence", flat=True)) == [2]
    workflow_actions.case_release(case=case, actor=clerk_of(case.department))
    assert sorted(Delivery.objects.values_list("sequence", flat=True)) == [2, 3]


def test_a_real_receiver_over_http_gets_every_event_signed_and_in_order(demo, local_receiver):
    from accounts.models import Department, User

    admin = User.objects.get(email="admin@demo.gov")
    tax = Department.objects.get(slug="tax")
    created = actions.subscription_create(
        actor=admin, department=tax, url=f"{local_receiver}/hooks", events=["case.opened"]
    )
    moved = actions.subscription_create(
        actor=admin, department=tax, url=f"{local_receiver}/moved", events=["case.opened"]
    )
    for _n in range(3):
        _route()
    assert delivery.send_due() == 6
    hooks = [r for r in LocalReceiver.received if r[0] == "/hooks"]
    assert len(hooks) == 3 and len(LocalReceiver.received) == 6  # the redirect was not followed
    for _path, headers, body in hooks:
        assert Webhook(created.secret).verify(body, headers)["type"] == "case.opened"
        assert {k.lower(): v for k, v in headers.items()}["host"] == local_receiver[7:]
    statuses = dict(Delivery.objects.values_list("subscription_id", "status").distinct().order_by())
    assert statuses == {created.subscription.pk: "delivered", moved.subscription.pk: "pending"}
    assert {len(p) for p in Delivery.objects.values_list("response_prefix", flat=True)} == {200}


def test_the_outbox_costs_three_queries_per_change(tax_subscription):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    created, admin = tax_subscription
    _application, case = _route()
    _other, unwatched = _route()
    clerk = clerk_of(case.department)
    with CaptureQueriesContext(connection) as watched:
        workflow_actions.case_claim(case=case, actor=clerk)
    actions.subscription_delete(actor=admin, subscription=created.subscription)
    with CaptureQueriesContext(connection) as alone:
        workflow_actions.case_claim(case=unwatched, actor=clerk)
    # The subscriptions (asked either way), the last sequence numbers, the insert.
    assert len(watched) - len(alone) == 2


def test_the_task_sends_everything_due_and_wakes_once_for_a_near_retry(
    tax_subscription, webhook_receiver, settings, monkeypatch
):
    from django.core.cache import cache

    from integrations import tasks

    settings.WEBHOOK_RETRY_BASE_SECONDS = 2
    cache.delete(tasks.FOLLOW_UP_KEY)
    calls = []
    monkeypatch.setattr(tasks.notify_webhooks, "apply_async", lambda **kw: calls.append(kw))
    _application, case = _route()
    workflow_actions.case_claim(case=case, actor=clerk_of(case.department))
    assert tasks.notify_webhooks() == 2  # the opening, then the claim behind it
    assert calls == []
    webhook_receiver.answer = lambda r: httpx.Response(500)
    workflow_actions.case_release(case=case, actor=clerk_of(case.department))
    assert tasks.notify_webhooks() == 1
    assert len(calls) == 1 and 0 < calls[0]["countdown"] <= 2
    tasks.dispatch_webhooks()  # nothing due; the follow-up is already planned
    assert len(calls) == 1


def test_a_receiver_that_keeps_failing_does_not_hold_the_worker(
    tax_subscription, webhook_receiver, settings, monkeypatch
):
    """Retries due at once (no backoff): a batch that delivered nothing and was not full ends
    the call, which hands the retries back to the queue instead of trying them again and again
    while routing and the other tasks on the worker wait."""
    from django.core.cache import cache

    from integrations import tasks

    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    cache.delete(tasks.FOLLOW_UP_KEY)
    calls = []
    monkeypatch.setattr(tasks.notify_webhooks, "apply_async", lambda **kw: calls.append(kw))
    monkeypatch.setattr(tasks, "DISPATCH_BUDGET_SECONDS", 5)
    webhook_receiver.answer = lambda r: httpx.Response(500)
    _route()
    _route()
    assert tasks.notify_webhooks() == 2  # each case's opening, tried once
    assert list(Delivery.objects.values_list("attempts", flat=True)) == [1, 1]
    assert len(calls) == 1  # the retries: one wake-up call, through the queue
    # A success goes on within the call: the case's next event is due at once.
    webhook_receiver.answer = lambda r: httpx.Response(204)
    _application, case = _route()
    workflow_actions.case_claim(case=case, actor=clerk_of(case.department))
    assert tasks.notify_webhooks() == 4  # the two retried, then this case's opening and claim
    assert not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def test_a_full_batch_of_failures_goes_on_to_the_backlog_behind_it(
    tax_subscription, webhook_receiver, settings, monkeypatch
):
    from django.core.cache import cache

    from integrations import tasks

    settings.WEBHOOK_RETRY_BASE_SECONDS = 60  # the retries are not due within the call
    cache.delete(tasks.FOLLOW_UP_KEY)
    monkeypatch.setattr(tasks.notify_webhooks, "apply_async", lambda **kw: None)
    monkeypatch.setattr(tasks, "BATCH", 1)
    webhook_receiver.answer = lambda r: httpx.Response(500)
    _route()
    _route()
    assert tasks.notify_webhooks() == 2  # two full batches of one, then nothing was due
    assert list(Delivery.objects.values_list("attempts", flat=True)) == [1, 1]


def test_changes_committed_while_a_wake_up_call_waits_queue_no_other(
    tax_subscription, webhook_receiver, monkeypatch
):
    from django.core.cache import cache

    from integrations import emission, tasks

    cache.delete(emission.WAKE_PENDING_KEY)
    woken = []
    monkeypatch.setattr(tasks.notify_webhooks, "delay", lambda: woken.append(1))
    _application, case = _route()
    clerk = clerk_of(case.department)
    case = workflow_actions.case_claim(case=case, actor=clerk)
    # What each of the two changes' commits runs (emission.wake_after_commit).
    emission._wake()
    emission._wake()
    assert len(woken) == 1  # the second found the first call still queued
    assert tasks.notify_webhooks() == 2  # that call, taken, sends both changes' deliveries
    emission._wake()
    assert len(woken) == 2  # taken: the next commit queues a call again

    # A broker that refuses the call leaves nothing marked queued: the next commit tries again.
    tasks.notify_webhooks()

    def refused():
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.notify_webhooks, "delay", refused)
    with pytest.raises(ConnectionError):
        emission._wake()
    assert cache.get(emission.WAKE_PENDING_KEY) is None


def test_no_transaction_is_open_while_the_requests_are_out(tax_subscription, webhook_receiver):
    """The claim leases the rows and commits; the requests go out with no transaction open (a
    slow endpoint holds no row lock, nor SQLite's write lock); the outcome is a second one."""
    from django.db import connection

    created, _admin = tax_subscription
    _application, case = _route()
    depth, seen = len(connection.atomic_blocks), []

    def answer(request):
        row = Delivery.objects.get(message_id=request.headers["webhook-id"])
        seen.append((len(connection.atomic_blocks), row.status, row.next_attempt_at))
        return httpx.Response(204)

    webhook_receiver.answer = answer
    now = timezone.now()
    assert delivery.send_due(now=now) == 1
    ((open_blocks, status, leased_until),) = seen
    assert open_blocks == depth  # nothing opened by the sender around the request
    assert status == DeliveryStatus.PENDING
    assert leased_until >= now + dt.timedelta(seconds=delivery.lease_seconds(100))
    assert delivery.send_due(now=now) == 0  # leased, then delivered: never sent twice
    row = Delivery.objects.get(subscription=created.subscription, case=case)
    assert row.status == DeliveryStatus.DELIVERED


def test_an_answer_with_a_nul_byte_is_kept_without_it(tax_subscription, webhook_receiver):
    created, _admin = tax_subscription
    _route()
    webhook_receiver.answer = lambda r: httpx.Response(500, content=b"bro\x00ken")
    assert delivery.send_due() == 1
    row = Delivery.objects.get(subscription=created.subscription)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.response_prefix == "broken" and row.last_status_code == 500


def test_a_secret_that_cannot_be_opened_fails_its_deliveries_only(
    tax_subscription, webhook_receiver
):
    from integrations.models import SubscriptionSecret

    created, _admin = tax_subscription
    _route()
    SubscriptionSecret.objects.filter(subscription=created.subscription).update(secret="v1:x:y")
    delivery._signers.clear()
    assert delivery.send_due() == 1
    row = Delivery.objects.get(subscription=created.subscription)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.last_error == "no valid signing secret"
    assert webhook_receiver.requests == []


def test_a_change_made_while_the_request_is_out_is_kept(tax_subscription, webhook_receiver):
    """The outcome is written only on rows still as the claim left them: a row changed while
    its request was out (here marked failed) keeps that change."""
    created, _admin = tax_subscription
    _route()

    def answer(request):
        Delivery.objects.filter(message_id=request.headers["webhook-id"]).update(
            status=DeliveryStatus.FAILED
        )
        return httpx.Response(500)

    webhook_receiver.answer = answer
    assert delivery.send_due() == 1
    row = Delivery.objects.get(subscription=created.subscription)
    assert row.status == DeliveryStatus.FAILED and row.attempts == 0
