"""Routing in batches: a routing task routes its own application and, in the same
transaction, other applications waiting to be routed (`ROUTING_BATCH_SIZE`), with one statement
per kind of write for all of them; a wake-up call whose application is already routed stops
after one read; rows another worker holds are skipped, not waited for; one broken application
never stops the others; the citizens' messages go out as one task per batch."""

import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import get_perms

from audit.models import AuditEvent
from services.models import Application
from tests.factories import submit_moving
from workflows import actions, notifications, routing
from workflows import tasks as service_tasks
from workflows.models import Case
from workflows.tasks import route_application

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _held_clock(clock):
    """A batch takes other applications only while their routing request is younger than the
    sweeper's cutoff (one second in the tests). On a clock that stands still until a test moves
    it, how long the machine takes to submit them never decides which ones join a batch."""
    return clock


def _requested(applications):
    return set(
        Application.objects.filter(
            pk__in=[a.pk for a in applications], routing_requested_at__isnull=False
        ).values_list("pk", flat=True)
    )


def _steps(application):
    return set(Case.objects.filter(application=application).values_list("step", flat=True))


def test_one_task_routes_the_waiting_applications_in_one_batch(
    demo, django_capture_on_commit_callbacks, monkeypatch
):
    applications = [submit_moving(vehicle=n % 2 == 0) for n in range(5)]
    sent = []
    monkeypatch.setattr(
        service_tasks.notify_applications_changed, "delay", lambda ids: sent.append(ids)
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        plans = routing.route_requested(application_id=applications[2].pk)

    assert set(plans) == {a.pk for a in applications}
    assert _requested(applications) == set()
    for n, application in enumerate(applications):
        application.refresh_from_db()
        assert application.status == "in_progress" and application.routed_at is not None
        expected = {"household", "tax"} | ({"vehicle"} if n % 2 == 0 else set())
        assert _steps(application) == expected
        for case in Case.objects.filter(application=application).select_related("department"):
            group = case.department.group
            assert set(get_perms(group, case)) == {"view_case", "change_case"}
            assert case.due_at is not None and case.status == "open"
        assert AuditEvent.objects.filter(
            action="case.create", details__application=application.reference
        ).count() == len(expected)
        assert AuditEvent.objects.filter(
            action="application.status", target_ref=application.reference
        ).exists()
    # One message for the whole batch's citizens, sent after the commit.
    assert len(callbacks) == 1
    assert len(sent) == 1 and sorted(sent[0]) == sorted(a.pk for a in applications)


def test_the_batch_is_bounded_and_the_woken_application_goes_first(demo, settings):
    settings.ROUTING_BATCH_SIZE = 2
    applications = [submit_moving() for _ in range(4)]
    plans = routing.route_requested(application_id=applications[3].pk)
    # The woken one, then the oldest request.
    assert set(plans) == {applications[3].pk, applications[0].pk}
    assert _requested(applications) == {applications[1].pk, applications[2].pk}


def test_a_batch_size_of_one_routes_only_the_woken_application(demo, settings):
    settings.ROUTING_BATCH_SIZE = 1
    applications = [submit_moving() for _ in range(3)]
    assert set(routing.route_requested(application_id=applications[1].pk)) == {applications[1].pk}
    assert _requested(applications) == {applications[0].pk, applications[2].pk}


def test_a_wake_up_call_for_a_routed_application_stops_after_one_read(
    demo, django_assert_num_queries
):
    routed = submit_moving()
    routing.route_requested(application_id=routed.pk)
    waiting = submit_moving()
    with django_assert_num_queries(1):
        assert routing.route_requested(application_id=routed.pk) == {}
    # The waiting application is left to its own wake-up call (or the sweeper).
    assert _requested([waiting]) == {waiting.pk}
    assert Case.objects.filter(application=routed).count() == 2


def test_a_draft_is_never_routed(demo):
    from services import actions as service_actions
    from services.selectors import versions_published_for
    from tests.factories import UserFactory

    citizen = UserFactory()
    draft = service_actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["moving-house"]), answers={}
    )
    Application.objects.filter(pk=draft.pk).update(routing_requested_at=draft.created_at)
    waiting = submit_moving()
    plans = routing.route_requested(application_id=waiting.pk)
    assert set(plans) == {waiting.pk}
    assert not Case.objects.filter(application=draft).exists()


def test_queries_do_not_grow_with_the_batch(demo):
    def queries_to_route(count):
        applications = [submit_moving(vehicle=True) for _ in range(count)]
        with CaptureQueriesContext(connection) as captured:
            plans = routing.route_requested(application_id=applications[0].pk)
        assert len(plans) == count
        return len(captured)

    assert queries_to_route(2) == queries_to_route(12) <= 20


def test_a_broken_application_is_left_out_and_the_others_are_routed(demo, monkeypatch):
    applications = [submit_moving() for _ in range(3)]
    broken = applications[1]
    real = actions.application_answers

    def answers(application):
        if application.pk == broken.pk:
            raise ValueError("cannot decrypt")
        return real(application)

    monkeypatch.setattr(routing, "application_answers", answers)
    plans = routing.route_requested(application_id=applications[0].pk)
    assert set(plans) == {applications[0].pk, applications[2].pk}
    assert _requested(applications) == {broken.pk}  # still requested: its own task fails on it
    assert not Case.objects.filter(application=broken).exists()
    # Its own task raises (retried, then an incident), and routes nothing else meanwhile.
    waiting = submit_moving()
    with pytest.raises(ValueError, match="cannot decrypt"), transaction.atomic():
        routing.route_requested(application_id=broken.pk)
    assert _requested([broken, waiting]) == {broken.pk, waiting.pk}


def test_a_failed_batch_falls_back_to_the_woken_application_alone(demo, monkeypatch):
    applications = [submit_moving() for _ in range(3)]
    real = routing._advance_locked
    calls = []

    def fails_in_a_batch(applications, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            real(applications, **kwargs)  # writes, then the statement after them fails
            raise RuntimeError("the batch's insert failed")
        return real(applications, **kwargs)

    monkeypatch.setattr(routing, "_advance_locked", fails_in_a_batch)
    plans = routing.route_requested(application_id=applications[1].pk)
    assert set(plans) == {applications[1].pk}
    # The batch's writes were rolled back: the others wait for their own tasks.
    assert _requested(applications) == {applications[0].pk, applications[2].pk}
    assert not Case.objects.filter(application__in=[applications[0], applications[2]]).exists()
    assert Case.objects.filter(application=applications[1]).count() == 2


def _hold(application, seconds=30):
    """Another connection locks the application's row (as a routing batch or a writer does)
    until released; returns (locked, release, done) events and the thread."""
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_transaction():
        try:
            with transaction.atomic():
                Application.objects.select_for_update().get(pk=application.pk)
                locked.set()
                release.wait(seconds)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=other_transaction)
    thread.start()
    assert locked.wait(10)
    return release, done, thread


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_other_applications_another_transaction_holds_are_skipped(
    demo, require_postgres, monkeypatch
):
    # No wake-up calls: a Celery worker started by other tests in this process would route them.
    monkeypatch.setattr(route_application, "delay", lambda *args, **kwargs: None)
    applications = [submit_moving() for _ in range(3)]
    held = applications[0]
    release, done, thread = _hold(held)
    try:
        plans = routing.route_requested(application_id=applications[1].pk)
        assert set(plans) == {applications[1].pk, applications[2].pk}
        assert not done.is_set()  # not waited for
    finally:
        release.set()
        thread.join(30)
    assert _requested(applications) == {held.pk}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_woken_application_is_waited_for_not_skipped(demo, require_postgres, monkeypatch):
    """Held by a writer that does not ask for routing (a case note, a repeated submit, key
    rotation): the task waits and routes it, rather than leaving it to the sweeper."""
    monkeypatch.setattr(route_application, "delay", lambda *args, **kwargs: None)
    application = submit_moving()
    release, done, thread = _hold(application)
    threading.Timer(0.5, release.set).start()
    try:
        plans = routing.route_requested(application_id=application.pk)
        assert done.is_set()  # it waited for the other transaction to end
        assert set(plans) == {application.pk}
    finally:
        release.set()
        thread.join(30)
    assert _requested([application]) == set()


def test_old_requests_are_left_to_their_own_tasks_and_the_sweeper(demo, settings, clock):
    """An application that keeps failing must not take a place in every batch: only requests
    younger than the sweeper's cutoff join another application's batch."""
    from datetime import timedelta

    old, new = submit_moving(), submit_moving()
    Application.objects.filter(pk=old.pk).update(
        routing_requested_at=clock.now()
        - timedelta(seconds=settings.ROUTING_SWEEP_AFTER_SECONDS + 5)
    )
    woken = submit_moving()
    assert set(routing.route_requested(application_id=woken.pk)) == {woken.pk, new.pk}
    assert _requested([old, new, woken]) == {old.pk}


def test_audit_events_of_other_applications_do_not_carry_the_woken_request_id(demo):
    from core.context import bind_context, reset_context

    first, second = submit_moving(), submit_moving()
    token = bind_context(request_id="req-of-the-first-citizen", ip=None, source="worker")
    try:
        routing.route_requested(application_id=first.pk)
    finally:
        reset_context(token)
    ids = {
        ref: set(
            AuditEvent.objects.filter(action="case.create", details__application=ref).values_list(
                "request_id", flat=True
            )
        )
        for ref in (first.reference, second.reference)
    }
    assert ids[first.reference] == {"req-of-the-first-citizen"}
    assert len(ids[second.reference]) == 1
    assert ids[second.reference] != {"req-of-the-first-citizen"}


def test_each_citizen_gets_a_message_about_their_own_application(demo):
    applications = [submit_moving() for _ in range(3)]
    routing.route_requested(application_id=applications[0].pk)
    mail.outbox.clear()
    notifications.applications_changed(application_ids=[a.pk for a in applications])
    assert len(mail.outbox) == 3
    for application in applications:
        (message,) = [m for m in mail.outbox if application.reference in m.subject]
        assert message.to == [application.citizen.email]
        assert f"/applications/{application.reference}/" in message.body
        for other in applications:
            if other.pk != application.pk:
                assert other.reference not in message.body
    # The task that queued messages used before batches still works.
    mail.outbox.clear()
    service_tasks.notify_application_changed(applications[0].pk)
    assert [m.to for m in mail.outbox] == [[applications[0].citizen.email]]


def test_a_refused_message_neither_stops_nor_repeats_the_others(demo, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    applications = [submit_moving() for _ in range(3)]
    routing.route_requested(application_id=applications[0].pk)
    refused = applications[1]
    real = EmailBackend.send_messages

    def send(self, messages):
        if any(refused.citizen.email in m.to for m in messages):
            raise OSError("550 mailbox unavailable")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send)
    ids = [a.pk for a in applications]
    mail.outbox.clear()
    assert notifications.applications_changed(application_ids=ids) == [refused.pk]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        a.citizen.email for a in applications if a.pk != refused.pk
    )
    # The task tries again only the refused one (eagerly here, every retry at once).
    mail.outbox.clear()
    result = service_tasks.notify_applications_changed.apply(args=[ids], throw=False)
    assert result.failed()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        a.citizen.email for a in applications if a.pk != refused.pk
    )


def test_one_batch_applies_different_kinds_of_change_to_each_application(demo):
    """A new submission, an application whose cases were all decided, and a withdrawn one,
    routed by one task: each gets what routing it alone gives it."""
    from django.utils import timezone

    from services import actions as service_actions

    decided, withdrawn = submit_moving(), submit_moving()
    routing.route_requested(application_id=decided.pk)  # both routed in one batch
    Case.objects.filter(application=decided).update(status="approved", decided_at=timezone.now())
    Application.objects.filter(pk=decided.pk).update(routing_requested_at=timezone.now())
    service_actions.application_withdraw(application=withdrawn, actor=withdrawn.citizen)
    new = submit_moving()

    plans = routing.route_requested(application_id=new.pk)
    assert set(plans) == {new.pk, decided.pk, withdrawn.pk}
    new.refresh_from_db(), decided.refresh_from_db(), withdrawn.refresh_from_db()
    assert new.status == "in_progress" and _steps(new) == {"household", "tax"}
    assert decided.status == "completed" and decided.completed_at is not None
    assert withdrawn.status == "withdrawn" and withdrawn.completed_at is None
    assert set(Case.objects.filter(application=withdrawn).values_list("status", flat=True)) == {
        "cancelled"
    }
    assert (
        AuditEvent.objects.filter(
            action="case.transition",
            target_ref__in=Case.objects.filter(application=withdrawn).values_list(
                "reference", flat=True
            ),
        ).count()
        == 2
    )
    assert AuditEvent.objects.filter(
        action="application.status", target_ref=decided.reference, details__to="completed"
    ).exists()
    assert _requested([new, decided, withdrawn]) == set()
