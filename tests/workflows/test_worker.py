"""A task queued through the real broker runs in a separate Celery worker process."""

import os

import pytest

from tests.support import wait_for
from workflows.models import WorkerHeartbeat
from workflows.tasks import maintenance_heartbeat

pytestmark = [pytest.mark.services, pytest.mark.worker]


def test_task_queued_through_the_broker_runs_in_the_worker(live_worker, client):
    maintenance_heartbeat.delay()
    beat = wait_for(lambda: WorkerHeartbeat.objects.filter(queue="maintenance").first())
    assert beat.pid == live_worker.pid != os.getpid()
    assert beat.hostname.startswith("test-")
    body = client.get("/healthz").json()
    assert body["worker"]["ok"] is True
    assert body["status"] == "ok"
