"""Limits checked before work: body size per endpoint (413 as JSON, never a connection reset,
through Django and through a real gunicorn), and the shape of JSON bodies (depth, list length,
item count, string size) refused by a scan of the text before anything is built or stored."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from services.models import Application
from tests.factories import UserFactory
from tests.support import wait_for

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def million_items() -> bytes:
    """About 2 MB: a million one-digit numbers in one answer."""
    items = ",".join(["0"] * 1_000_000)
    return ('{"services": ["moving-house"], "answers": {"x": [' + items + "]}}").encode()


def cpu_seconds(call) -> tuple[float, object]:
    """The best CPU time of three runs (the bound is about work done, not scheduling)."""
    best, result = None, None
    for _ in range(3):
        start = time.process_time()
        result = call()
        spent = time.process_time() - start
        best = spent if best is None else min(best, spent)
    return best, result


def test_two_megabytes_of_a_million_items_is_refused_before_parsing(demo, api):
    body = million_items()
    assert len(body) > 2_000_000
    events = AuditEvent.objects.count()
    spent, response = cpu_seconds(
        lambda: api.generic("POST", "/api/v1/applications/", body, content_type="application/json")
    )
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}
    assert spent < 0.05, f"{spent * 1000:.1f} ms of CPU for a refused body"
    assert Application.objects.count() == 0 and AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "answers, message",
    [
        ("[" + ",".join(["0"] * 150_000) + "]", "more than 1000 items"),
        ("{" + ",".join(f'"k{i}": 0' for i in range(20_000)) + "}", "more than 1000 items"),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        ('"' + "a" * 60_000 + '"', "longer than 50000"),
        ("[" + ",".join("[" + ",".join(["0"] * 900) + "]" for _ in range(15)) + "]", "values"),
    ],
    ids=["long-list", "many-members", "deep", "long-string", "many-values"],
)
def test_json_shape_limits_answer_400_cheaply_and_store_nothing(demo, api, answers, message):
    body = ('{"services": ["moving-house"], "answers": {"x": ' + answers + "}}").encode()
    assert len(body) < 512 * 1024  # under the size limit: the parser's checks decide
    spent, response = cpu_seconds(
        lambda: api.generic("POST", "/api/v1/applications/", body, content_type="application/json")
    )
    assert response.status_code == 400, response.content[:200]
    assert message in json.dumps(response.json())
    assert spent < 0.05, f"{spent * 1000:.1f} ms of CPU for a refused body"
    assert Application.objects.count() == 0


def test_ordinary_json_still_passes(demo, api):
    response = api.post(
        "/api/v1/applications/",
        {"services": ["moving-house"], "answers": {"household.has_vehicle": False}},
        format="json",
    )
    assert response.status_code == 201


def test_django_field_limit_is_a_json_413(demo, api):
    """Under the upload endpoint's body limit, over Django's DATA_UPLOAD_MAX_MEMORY_SIZE for
    form fields: Django's RequestDataTooBig becomes a JSON 413, not a 400 or a 500."""
    created = api.post(
        "/api/v1/applications/", {"services": ["newborn"], "answers": {}}, format="json"
    )
    reference = created.json()["reference"]
    response = api.post(
        f"/api/v1/applications/{reference}/attachments/",
        {"field": "x" * (2 * 1024 * 1024)},
        format="multipart",
    )
    assert response.status_code == 413
    assert set(response.json()) == {"detail"}


def test_django_field_limit_on_a_web_upload_page_is_a_413_page(demo, client):
    """The same through Django's own handler (a form page that takes files): 413, not 400."""
    citizen = UserFactory()
    client.force_login(citizen)
    api = APIClient()
    api.force_authenticate(citizen)
    created = api.post(
        "/api/v1/applications/", {"services": ["moving-house"], "answers": {}}, format="json"
    )
    reference = created.json()["reference"]
    response = client.post(
        f"/applications/{reference}/form/move/", {"move.new_address": "x" * (2 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert b"too large" in response.content
    assert Application.objects.get(reference=reference).status == "draft"


def test_web_page_over_its_limit_is_a_413_page(demo, client):
    client.force_login(UserFactory())
    response = client.post(
        "/profile/",
        "a=" + "x" * (2 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413


def test_invalid_content_length_is_a_400(api):
    response = api.generic(
        "POST",
        "/api/v1/applications/",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH="-5",
    )
    assert response.status_code == 400


# --- Through a real gunicorn: the 413 arrives, the connection is not reset ------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def listening() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn stopped:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    try:
        wait_for(listening, timeout=60, interval=0.2, diagnostics=log.read_text)
    except BaseException:
        proc.kill()
        raise
    yield port
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.parametrize("size", [600 * 1024, 3 * 1024 * 1024, 20 * 1024 * 1024])
def test_gunicorn_answers_oversized_bodies_with_json_413(gunicorn_server, size):
    """The client sends the whole body, then reads: it must get the 413, not a reset."""
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn_server, timeout=30)
    body = b'{"answers": "' + b"x" * size + b'"}'
    conn.request(
        "POST",
        "/api/v1/applications/",
        body=body,
        headers={"Content-Type": "application/json", "Host": "127.0.0.1"},
    )
    response = conn.getresponse()
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/json"
    assert set(json.loads(response.read())) == {"detail"}
    conn.close()
