"""Webhooks reach a department's system through its faults, with the real worker and beat on
PostgreSQL and Redis, and a real HTTP receiver on 127.0.0.1 that checks every delivery with the
`standardwebhooks` library (tests/integrations/receiver.py).

The receiver is down for a while, answers 500, times out or is slow while cases of its
department are opened, changed and closed: once it is back, every event has arrived, exactly
once after de-duplication by `webhook-id`, in each case's sequence order, every signature valid.
The broker is unreachable when the changes commit: beat's sweep still sends the outbox. A
forged signature and a stale timestamp are refused by the library; a rotated secret verifies
with the old secret during the overlap and with the new one.

The worker and beat run with tests.support.WEBHOOK_TEST_ENV: a one-second timeout, retries
after one then two seconds, beat's sweep every second.
"""

from __future__ import annotations

import datetime as dt

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from accounts.models import Department, User
from integrations.actions import secret_rotate, subscription_create
from integrations.constants import DeliveryStatus, EventType
from integrations.models import Delivery
from services.actions import application_withdraw
from tests.factories import ApplicationFactory, UserFactory, submit_moving
from tests.support import WEBHOOK_TEST_ENV, broker_unreachable, wait_for
from workflows import actions as cases
from workflows.constants import FINAL_CASE_STATES
from workflows.models import Case

pytestmark = [pytest.mark.services, pytest.mark.worker]

ALL_EVENTS = [event.value for event in EventType]
TIMEOUT = int(WEBHOOK_TEST_ENV["WEBHOOK_TIMEOUT_SECONDS"])
# Enough for retries at the longest interval, a slow machine and beat's sweep.
SETTLE = 90


def _subscribe(receiver, *, slug: str = "tax"):
    """The tax office's system subscribes to every event; the receiver keeps its secret."""
    created = subscription_create(
        actor=User.objects.get(email="admin@demo.gov"),
        department=Department.objects.get(slug=slug),
        url=receiver.url,
        events=ALL_EVENTS,
        label="Tax office system",
    )
    assert created.secret.startswith("whsec_")
    receiver.secret = created.secret
    return created.subscription


def _work_three_cases(worker) -> list[Case]:
    """Three moving-house applications submitted and routed by the worker (the tax office's
    case opened), then in the tax office: one claimed and approved; one claimed, a question
    asked and answered by the citizen; one application withdrawn (its case cancelled)."""
    citizen = UserFactory()
    applications = [submit_moving(citizen=citizen) for _ in range(3)]
    tax = Case.objects.filter(application__in=applications, step="tax")
    wait_for(lambda: tax.count() == 3, timeout=SETTLE, diagnostics=worker.output)
    first, second, third = (tax.get(application=a) for a in applications)
    clerk = User.objects.get(email="clerk.tax@demo.gov")
    cases.case_approve(case=cases.case_claim(case=first, actor=clerk), actor=clerk)
    asked = cases.case_request_info(
        case=cases.case_claim(case=second, actor=clerk),
        actor=clerk,
        message="Please confirm the date of your move.",
    )
    cases.case_citizen_replied(case=asked, citizen=citizen, message="The first of November.")
    application_withdraw(application=applications[2], actor=citizen)
    # The solo worker routes between webhook sends, each up to a timeout while the receiver
    # times out: on a loaded machine that takes a while.
    wait_for(
        lambda: Case.objects.get(pk=third.pk).status in FINAL_CASE_STATES,
        timeout=SETTLE,
        diagnostics=worker.output,
    )
    return [first, second, third]


def _all_delivered(subscription, receiver, worker) -> dict:
    """Wait until every delivery of the subscription is delivered and the receiver has taken
    each; returns the receiver's records."""
    deliveries = Delivery.objects.filter(subscription=subscription)

    def done() -> bool:
        if deliveries.exclude(status=DeliveryStatus.DELIVERED).exists():
            return False
        return receiver.count() >= deliveries.count()

    wait_for(done, timeout=SETTLE, interval=0.2, diagnostics=lambda: _diagnose(deliveries, worker))
    return receiver.snapshot()


def _diagnose(deliveries, worker) -> str:
    rows = deliveries.order_by("case_id", "sequence").values_list(
        "case__reference", "sequence", "event", "status", "attempts", "last_error"
    )
    return "\n".join(map(repr, rows)) + "\n" + worker.output()[-2000:]


def _assert_exactly_once_in_order(subscription, receiver, seen: dict) -> None:
    """Every event of the outbox arrived, once after de-duplication, each case's in sequence
    order from 1 without gaps, every signature valid."""
    deliveries = list(Delivery.objects.filter(subscription=subscription).select_related("case"))
    assert set(seen["accepted"]) == {d.message_id for d in deliveries}
    assert seen["refused"] == [], "the library refused a delivery of the portal"
    assert seen["unordered"] == []
    by_case: dict[str, list[int]] = {}
    for delivery in deliveries:
        by_case.setdefault(delivery.case.reference, []).append(delivery.sequence)
    arrived = receiver.sequences()
    assert set(arrived) == set(by_case)
    for reference, sequences in arrived.items():
        assert sequences == list(range(1, len(sequences) + 1)), reference
        assert sorted(by_case[reference]) == sequences
    for received in seen["accepted"].values():
        payload = Webhook(receiver.secret).verify(received.body, received.headers)
        assert payload["type"] in ALL_EVENTS
        assert payload["data"]["case"] in by_case


def _assert_the_story(receiver, worked: list[Case]) -> None:
    """What the department's system learnt of the three cases, in order."""
    events = receiver.events()
    approved, asked, withdrawn = (events[c.reference] for c in worked)
    assert approved == ["case.opened", "case.changed", "case.closed"]
    assert asked[:3] == ["case.opened", "case.changed", "case.changed"]
    assert "case.information_answered" in asked
    assert "case.closed" not in asked
    assert withdrawn == ["case.opened", "application.withdrawn", "case.closed"]


# --- The receiver's faults ----------------------------------------------------------------------


def _failed_attempts(subscription, at_least: int) -> bool:
    return Delivery.objects.filter(
        subscription=subscription, attempts__gte=at_least, delivered_at__isnull=True
    ).exists()


@pytest.mark.parametrize("fault", ["down", "error", "timeout"])
def test_every_event_arrives_once_in_order_after_the_receiver_failed(
    fault, require_postgres, live_worker, live_beat, demo, live_receiver
):
    receiver = live_receiver
    subscription = _subscribe(receiver)
    # Timing out: each delivery is taken, then answered after the sender gave up on it.
    receiver.set_mode(fault, delay=TIMEOUT * 3)
    worked = _work_three_cases(live_worker)

    # The fault happened: deliveries were attempted and failed more than once.
    def log() -> str:
        return _diagnose(Delivery.objects.filter(subscription=subscription), live_worker)

    if fault == "down":
        assert receiver.requests == 0
    if fault == "error":
        wait_for(lambda: receiver.snapshot()["answered_error"] > 5, timeout=SETTLE, diagnostics=log)
    if fault == "timeout":  # a delivery taken, timed out and sent again
        wait_for(lambda: receiver.snapshot()["duplicates"] >= 1, timeout=SETTLE, diagnostics=log)
    wait_for(lambda: _failed_attempts(subscription, 2), timeout=SETTLE, diagnostics=log)
    assert Delivery.objects.filter(subscription=subscription, status="delivered").count() == 0

    receiver.set_mode("ok")
    seen = _all_delivered(subscription, receiver, live_worker)
    _assert_exactly_once_in_order(subscription, receiver, seen)
    _assert_the_story(receiver, worked)
    if fault == "timeout":
        assert seen["duplicates"] >= 1  # sent again, and de-duplicated by the receiver
    # The delivery log: each delivered by a 204 at last, the faults' attempts counted.
    log_rows = Delivery.objects.filter(subscription=subscription)
    assert set(log_rows.values_list("last_status_code", flat=True)) == {204}
    assert log_rows.filter(attempts__gte=2).exists()


def test_a_slow_receiver_gets_every_event_once_in_order(
    require_postgres, live_worker, live_beat, demo, live_receiver
):
    receiver = live_receiver
    subscription = _subscribe(receiver)
    receiver.set_mode("slow", delay=TIMEOUT * 0.4)  # answers 2xx, well within the timeout
    worked = _work_three_cases(live_worker)
    seen = _all_delivered(subscription, receiver, live_worker)
    _assert_exactly_once_in_order(subscription, receiver, seen)
    _assert_the_story(receiver, worked)
    latencies = Delivery.objects.filter(subscription=subscription).values_list(
        "last_latency_ms", flat=True
    )
    assert min(latencies) >= TIMEOUT * 300


# --- The broker -----------------------------------------------------------------------------------


def test_the_outbox_is_delivered_by_beat_when_the_broker_was_down_at_the_commit(
    require_postgres, live_worker, live_beat, demo, live_receiver
):
    receiver = live_receiver
    subscription = _subscribe(receiver)
    with broker_unreachable():  # no wake-up call leaves this process: only beat's sweep sends
        application = ApplicationFactory(routed=True)  # routed here, not by the worker
        case = application.cases.get(step="tax")
        clerk = User.objects.get(email="clerk.tax@demo.gov")
        cases.case_approve(case=cases.case_claim(case=case, actor=clerk), actor=clerk)
        assert Delivery.objects.filter(subscription=subscription).count() == 3
        seen = _all_delivered(subscription, receiver, live_worker)
    _assert_exactly_once_in_order(subscription, receiver, seen)
    assert receiver.events()[case.reference] == ["case.opened", "case.changed", "case.closed"]
    assert "notify_webhooks" in live_beat.read_text()


# --- Signatures -------------------------------------------------------------------------------


def _one_delivery(receiver, worker) -> tuple:
    """A tax case opened and its `case.opened` as the receiver took it."""
    case = ApplicationFactory(routed=True).cases.get(step="tax")
    receiver.wait_until(1, diagnostics=worker.output)
    (received,) = receiver.accepted.values()
    return case, received


def _at(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))


def test_a_forged_signature_and_a_stale_timestamp_are_refused(
    require_postgres, live_worker, live_beat, demo, live_receiver
):
    receiver = live_receiver
    _subscribe(receiver)
    _case, received = _one_delivery(receiver, live_worker)
    body, headers = received.body, received.headers
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(headers)

    # Sent again as it was: taken, and de-duplicated by its webhook-id.
    duplicates = receiver.snapshot()["duplicates"]
    assert receiver.post(body, headers) == 204
    assert receiver.snapshot()["duplicates"] == duplicates + 1

    # Forged: signed with another secret; a body changed under the portal's signature.
    forger = Webhook("whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3JnZWQtc2VjcmV0")
    now = dt.datetime.now(dt.UTC)
    forged = {**headers, "webhook-signature": forger.sign(received.message_id, now, body)}
    forged["webhook-timestamp"] = _at(now)
    assert receiver.post(body, forged) == 401
    assert receiver.post(body.replace(b"case.opened", b"case.closed"), headers) == 401
    assert receiver.snapshot()["refused"] == ["No matching signature found"] * 2

    # Stale: the recorded delivery with a timestamp six minutes old, and a delivery signed
    # with the real secret six minutes ago (a replay captured then).
    old = now - dt.timedelta(minutes=6)
    assert receiver.post(body, {**headers, "webhook-timestamp": _at(old)}) == 401
    replay = {
        **headers,
        "webhook-timestamp": _at(old),
        "webhook-signature": Webhook(receiver.secret).sign(received.message_id, old, body),
    }
    assert receiver.post(body, replay) == 401
    assert receiver.snapshot()["refused"][2:] == ["Message timestamp too old"] * 2
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(receiver.secret).verify(body, replay)
    assert receiver.count() == 1


def test_a_rotated_secret_verifies_with_the_old_secret_during_the_overlap_and_with_the_new(
    require_postgres, live_worker, live_beat, demo, live_receiver
):
    receiver = live_receiver
    subscription = _subscribe(receiver)
    old_secret = receiver.secret
    case, _opened = _one_delivery(receiver, live_worker)

    admin = User.objects.get(email="admin@demo.gov")
    new_secret = secret_rotate(actor=admin, subscription=subscription)
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    clerk = User.objects.get(email="clerk.tax@demo.gov")
    case = cases.case_claim(case=case, actor=clerk)
    # The department has not switched yet: its receiver still checks with the old secret.
    seen = receiver.wait_until(2, diagnostics=live_worker.output)
    assert seen["refused"] == []
    changed = max(seen["accepted"].values(), key=lambda r: r.at)
    assert len(changed.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        assert Webhook(secret).verify(changed.body, changed.headers)["type"] == "case.changed"

    # The department switches to the new secret during the overlap.
    receiver.secret = new_secret
    cases.case_approve(case=case, actor=clerk)
    seen = receiver.wait_until(3, diagnostics=live_worker.output)
    assert seen["refused"] == []
    closed = max(seen["accepted"].values(), key=lambda r: r.at)
    for secret in (old_secret, new_secret):
        assert Webhook(secret).verify(closed.body, closed.headers)["type"] == "case.closed"

    # A rotation without overlap: from now on only the newest secret signs.
    newest = secret_rotate(actor=admin, subscription=subscription, overlap=dt.timedelta(0))
    receiver.secret = newest
    other = ApplicationFactory(routed=True).cases.get(step="tax")
    seen = receiver.wait_until(4, diagnostics=live_worker.output)
    assert seen["refused"] == []
    (opened,) = (
        r for r in seen["accepted"].values() if r.payload()["data"]["case"] == other.reference
    )
    assert Webhook(newest).verify(opened.body, opened.headers)["type"] == "case.opened"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret).verify(opened.body, opened.headers)
