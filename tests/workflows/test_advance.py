"""`advance` applies the plan to the database: cases with permissions and due dates, decisions
move the workflow, withdrawal cancels, it is idempotent, and deadlines escalate once."""

import datetime as dt
import threading

import pytest
from django.db import connection
from guardian.shortcuts import get_perms

from accounts.models import Department, User
from audit.models import AuditEvent
from services import actions as service_actions
from services.models import Application
from tests.factories import api_for, submit_moving
from workflows import actions, deadlines, notifications, routing
from workflows.models import Case, Incident

pytestmark = pytest.mark.django_db


def route(application):
    routing.advance(application_id=application.pk)
    application.refresh_from_db()
    return {c.step: c for c in application.cases.all()}


def statuses(cases):
    return {step: case.status for step, case in cases.items()}


def clerk_of(slug):
    return User.objects.get(email=f"clerk.{slug}@demo.gov")


def test_submit_asks_for_routing_in_the_same_transaction(demo):
    application = submit_moving()
    assert application.routing_requested_at is not None
    assert not application.cases.exists()


def test_routing_opens_independent_steps_and_makes_dependents_wait(demo):
    application = submit_moving(school=True)
    cases = route(application)
    assert statuses(cases) == {"household": "open", "tax": "open", "school": "pending"}
    assert application.status == "in_progress"
    assert application.routing_requested_at is None
    household = cases["household"]
    assert household.department.slug == "household-registration"
    assert household.due_at > household.opened_at
    assert "applicant.national_id" in household.fields and "school.grade" not in household.fields
    assert set(get_perms(clerk_of("household-registration"), household)) == {
        "view_case",
        "change_case",
    }
    assert get_perms(clerk_of("tax"), household) == []
    assert (
        AuditEvent.objects.filter(action="case.create", target_ref=household.reference).count() == 1
    )


def test_routing_twice_changes_nothing(demo):
    application = submit_moving(vehicle=True)
    route(application)
    before = (Case.objects.count(), AuditEvent.objects.count())
    assert routing.advance(application_id=application.pk).is_noop
    assert (Case.objects.count(), AuditEvent.objects.count()) == before


def test_approval_opens_the_dependent_step(demo):
    application = submit_moving(school=True)
    cases = route(application)
    actions.case_approve(
        case=cases["household"], actor=clerk_of("household-registration"), note="ok"
    )
    cases = route(application)
    assert cases["school"].status == "open"
    assert cases["school"].due_at is not None


def test_rejection_cancels_dependents_and_completes(demo):
    application = submit_moving(school=True)
    cases = route(application)
    actions.case_reject(
        case=cases["household"], actor=clerk_of("household-registration"), reason="Wrong address"
    )
    actions.case_approve(case=cases["tax"], actor=clerk_of("tax"))
    cases = route(application)
    assert statuses(cases) == {"household": "rejected", "tax": "approved", "school": "cancelled"}
    assert application.status == "completed"


def test_request_info_and_reply_move_the_case_and_the_application(demo):
    application = submit_moving()
    cases = route(application)
    clerk = clerk_of("tax")
    actions.case_claim(case=cases["tax"], actor=clerk)
    actions.case_request_info(case=cases["tax"], actor=clerk, message="Please send your tax number")
    cases = route(application)
    assert cases["tax"].status == "awaiting_citizen"
    assert application.status == "action_required"
    actions.case_citizen_replied(
        case=cases["tax"], citizen=application.citizen, message="Here it is"
    )
    cases = route(application)
    assert cases["tax"].status == "in_progress"
    assert application.status == "in_progress"


def test_withdrawal_cancels_open_and_pending_cases(demo):
    application = submit_moving(school=True)
    cases = route(application)
    actions.case_approve(case=cases["tax"], actor=clerk_of("tax"))
    service_actions.application_withdraw(application=application, actor=application.citizen)
    cases = route(application)
    assert statuses(cases) == {"household": "cancelled", "tax": "approved", "school": "cancelled"}
    assert application.status == "withdrawn"


@pytest.mark.parametrize(
    ("decide", "message"),
    [
        (lambda c, u: actions.case_approve(case=c, actor=u), "waits for another department"),
        (lambda c, u: actions.case_claim(case=c, actor=u), "Only an open case"),
    ],
)
def test_a_pending_case_cannot_be_decided(demo, decide, message):
    cases = route(submit_moving(school=True))
    with pytest.raises(actions.CaseError, match=message):
        decide(cases["school"], clerk_of("education"))
    assert Case.objects.get(pk=cases["school"].pk).status == "pending"


def test_wrong_department_and_wrong_state_are_refused(demo):
    cases = route(submit_moving())
    with pytest.raises(actions.CaseForbidden, match="Only the staff"):
        actions.case_approve(case=cases["tax"], actor=clerk_of("education"))
    actions.case_approve(case=cases["tax"], actor=clerk_of("tax"))
    with pytest.raises(actions.CaseError, match="already closed"):
        actions.case_reject(case=cases["tax"], actor=clerk_of("tax"), reason="changed my mind")
    with pytest.raises(actions.CaseError, match="reason"):
        actions.case_reject(
            case=cases["household"], actor=clerk_of("household-registration"), reason=" "
        )


def test_claimed_case_cannot_be_taken_by_another_clerk(demo):
    cases = route(submit_moving())
    first = clerk_of("tax")
    other = User.objects.get(email="lead.tax@demo.gov")
    actions.case_claim(case=cases["tax"], actor=first)
    with pytest.raises(actions.CaseError, match="Someone else"):
        actions.case_claim(case=cases["tax"], actor=other)


def test_sla_reminds_once_and_escalates_once(
    demo, clock, mailoutbox, django_capture_on_commit_callbacks
):
    cases = route(submit_moving())
    case = cases["tax"]
    now = clock.now()
    Case.objects.filter(pk=case.pk).update(due_at=now + dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks() as reminders:
        assert deadlines.sla_scan(now=now)["reminded"] == 1
        assert deadlines.sla_scan(now=now)["reminded"] == 0
    later = now + dt.timedelta(hours=3)
    with django_capture_on_commit_callbacks() as escalations:
        assert deadlines.sla_scan(now=later)["breached"] == 1
        assert deadlines.sla_scan(now=later + dt.timedelta(minutes=1))["breached"] == 0
    assert (len(reminders), len(escalations)) == (1, 1)  # one notification queued each
    assert AuditEvent.objects.filter(action="case.breach", target_ref=case.reference).count() == 1
    notifications.case_breached(case_id=case.pk)
    notifications.case_reminder(case_id=case.pk)
    assert [m.to for m in mailoutbox] == [["lead.tax@demo.gov"], ["tax@demo.gov"]]
    assert "Deadline missed" in mailoutbox[0].subject and case.reference in mailoutbox[1].subject


def test_the_clock_stops_while_the_citizen_answers(demo, clock):
    cases = route(submit_moving())
    clerk = clerk_of("tax")
    actions.case_request_info(case=cases["tax"], actor=clerk, message="?")
    Case.objects.filter(pk=cases["tax"].pk).update(due_at=clock.now() - dt.timedelta(days=1))
    assert deadlines.sla_scan(now=clock.now())["breached"] == 0


def test_sweeper_routes_what_was_not_routed(demo, settings):
    settings.ROUTING_SWEEP_AFTER_SECONDS = 0
    applications = [submit_moving() for _ in range(3)]
    assert routing.sweep_routing() == 3
    assert all(Application.objects.get(pk=a.pk).cases.count() == 2 for a in applications)
    assert routing.sweep_routing() == 0


def test_incident_keeps_the_error_and_retry_requests_routing(demo):
    application = submit_moving()
    Application.objects.filter(pk=application.pk).update(routing_requested_at=None)
    incident = routing.incident_record(
        application_id=application.pk,
        task="route_application",
        error=RuntimeError("db gone"),
        attempts=6,
    )
    assert incident.error == "RuntimeError: db gone" and incident.attempts == 6
    routing.incident_retry(incident=incident, actor=User.objects.get(email="admin@demo.gov"))
    assert Incident.objects.get(pk=incident.pk).resolved_at is not None
    assert Application.objects.get(pk=application.pk).routing_requested_at is not None


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_advancing_at_once_make_no_duplicates(demo, require_postgres):
    application = submit_moving(vehicle=True, school=True)
    barrier = threading.Barrier(4)
    errors = []

    def worker():
        try:
            barrier.wait()
            routing.advance(application_id=application.pk)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(Case.objects.filter(application=application).values_list("step", flat=True)) == [
        "household",
        "school",
        "tax",
        "vehicle",
    ]
    assert (
        AuditEvent.objects.filter(
            action="case.create", details__application=application.reference
        ).count()
        == 4
    )
    assert Department.objects.count() >= 6


def test_citizen_sees_each_departments_part_on_the_page_and_in_the_api(demo, client):
    application = submit_moving(school=True)
    route(application)
    client.force_login(application.citizen)
    body = client.get(f"/applications/{application.reference}/").content.decode()
    assert "Household Registration" in body and "Tax Bureau" in body and "Education Bureau" in body
    assert "Waiting for another department" in body and "decision due by" in body
    cases = (
        api_for(application.citizen)
        .get(f"/api/v1/applications/{application.reference}/")
        .json()["cases"]
    )
    assert {(c["department"], c["step"], c["status"]) for c in cases} == {
        ("household-registration", "household", "open"),
        ("tax", "tax", "open"),
        ("education", "school", "pending"),
    }
    assert all(c["service"] == "moving-house" and c["reference"].startswith("C-") for c in cases)


def test_admin_retries_an_incident(demo, client):
    application = submit_moving()
    Application.objects.filter(pk=application.pk).update(routing_requested_at=None)
    incident = routing.incident_record(
        application_id=application.pk, task="route_application", error=RuntimeError("x"), attempts=6
    )
    client.force_login(User.objects.get(email="admin@demo.gov"))
    response = client.post(
        "/admin/workflows/incident/", {"action": "retry", "_selected_action": [incident.pk]}
    )
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).resolved_at is not None
    assert AuditEvent.objects.filter(action="incident.retry").exists()


@pytest.mark.django_db(transaction=True)
def test_routing_gives_up_into_an_incident_after_its_retries(demo, settings, monkeypatch):
    """A database error on every attempt: the task retries, then records an incident."""
    from workflows import tasks

    settings.ROUTING_MAX_RETRIES = 2
    # No wake-up call: a Celery worker started by other tests in this process would route it.
    monkeypatch.setattr(tasks.route_application, "delay", lambda *args, **kwargs: None)
    application = submit_moving()

    def broken(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("the database went away")

    monkeypatch.setattr(tasks.routing, "_advance_locked", broken)
    result = tasks.route_application.apply(args=[application.pk], throw=False)
    assert result.failed()
    incident = Incident.objects.get(application=application)
    assert incident.attempts == 3 and "went away" in incident.error
