"""Routing never loses work, with a real broker and a real Celery worker: many submissions,
a broker that is down during submission, duplicate deliveries, a routing process killed
mid-transaction."""

import os
import random
import signal
import subprocess
import sys

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from services.models import Application
from tests.factories import UserFactory, expected_steps, moving_answers, submit_moving
from tests.support import ROOT, broker_unreachable, wait_for
from workflows.models import Case
from workflows.tasks import maintenance_sweep_routing, route_application

pytestmark = [pytest.mark.services, pytest.mark.worker]


def _steps(application_id):
    return set(Case.objects.filter(application_id=application_id).values_list("step", flat=True))


def _submit_through_api(api, *, vehicle, school):
    response = api.post(
        "/api/v1/applications/",
        {"services": ["moving-house"], "answers": moving_answers(vehicle=vehicle, school=school)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    reference = response.json()["reference"]
    response = api.post(f"/api/v1/applications/{reference}/submit/")
    assert response.status_code == 200, response.json()
    return Application.objects.get(reference=reference)


def test_fifty_submissions_each_get_exactly_their_cases(live_worker, demo):
    rng = random.Random(50)
    api = APIClient()
    api.force_authenticate(UserFactory())
    expected = {}
    for _ in range(50):
        vehicle, school = rng.random() < 0.5, rng.random() < 0.5
        application = _submit_through_api(api, vehicle=vehicle, school=school)
        expected[application.pk] = expected_steps(vehicle=vehicle, school=school)

    wait_for(
        lambda: not Application.objects.filter(pk__in=expected, routed_at__isnull=True).exists(),
        timeout=120,
        diagnostics=live_worker.output,
    )
    for application_id, steps in expected.items():
        assert _steps(application_id) == steps
    assert Case.objects.count() == sum(len(s) for s in expected.values())
    assert set(Application.objects.filter(pk__in=expected).values_list("status", flat=True)) == {
        "in_progress"
    }


def test_submission_succeeds_with_the_broker_down_and_is_routed_when_it_is_back(live_worker, demo):
    live_worker.wait_idle()  # earlier tests' wake-up calls would route these too (batches)
    api = APIClient()
    api.force_authenticate(UserFactory())
    with broker_unreachable():
        applications = [_submit_through_api(api, vehicle=False, school=False) for _ in range(5)]
    live_worker.wait_idle()  # no wake-up call arrived: whatever the worker had is done
    assert not Case.objects.filter(application__in=applications).exists()
    assert all(a.status == "submitted" and a.routing_requested_at for a in applications)

    maintenance_sweep_routing.delay()  # what beat does every 15 s
    wait_for(lambda: Case.objects.filter(application__in=applications).count() == 10)
    for application in applications:
        assert _steps(application.pk) == {"household", "tax"}


def test_the_same_routing_task_delivered_twice_routes_once(live_worker, demo):
    application = submit_moving(vehicle=True)
    route_application.delay(application.pk)
    route_application.delay(application.pk)
    wait_for(lambda: _steps(application.pk) == {"household", "tax", "vehicle"})
    live_worker.wait_idle()  # the duplicate delivery has run too
    assert Case.objects.filter(application=application).count() == 3
    assert (
        AuditEvent.objects.filter(
            action="case.create", details__application=application.reference
        ).count()
        == 3
    )


def test_a_routing_process_killed_mid_routing_loses_nothing(live_worker, demo, tmp_path):
    live_worker.wait_idle()
    with broker_unreachable():  # no wake-up call: only the process below routes it
        application = submit_moving(school=True)
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PORTAL_TEST_DB_NAME": live_worker_db_name(),
    }
    # Run the routing task's body in its own process, as a worker would, and kill it while it
    # holds the application's lock with the cases written but not committed (the script stops
    # there: tests/workflows/paused_routing.py).
    script = ["-m", "tests.workflows.paused_routing", str(application.pk), str(marker)]
    proc = subprocess.Popen([sys.executable, *script], cwd=ROOT, env=env)
    try:
        wait_for(marker.exists, timeout=60)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not Case.objects.filter(application=application).exists()
    assert Application.objects.get(pk=application.pk).routing_requested_at is not None

    maintenance_sweep_routing.delay()
    wait_for(lambda: _steps(application.pk) == {"household", "tax", "school"})
    assert (
        AuditEvent.objects.filter(
            action="case.create", details__application=application.reference
        ).count()
        == 3
    )


def live_worker_db_name() -> str:
    from django.db import connection

    return str(connection.settings_dict["NAME"])
