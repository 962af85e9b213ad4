"""GET /healthz reports the database, the broker and whether a worker has been seen lately."""

from datetime import timedelta

import pytest
from django.utils import timezone

from workflows.models import WorkerHeartbeat
from workflows.routing import heartbeat_record

pytestmark = pytest.mark.django_db


def test_without_a_worker_the_portal_is_degraded(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["worker"] == {"ok": False, "last_seen": None}


def test_a_fresh_heartbeat_means_ok(client, settings):
    heartbeat_record(queue="maintenance")
    body = client.get("/healthz").json()
    assert body["worker"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["status"] == "ok"


def test_a_stale_heartbeat_means_the_worker_is_down(client, settings):
    heartbeat_record(queue="maintenance")
    WorkerHeartbeat.objects.update(
        seen_at=timezone.now() - timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS + 5)
    )
    assert client.get("/healthz").json()["worker"]["ok"] is False


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
