"""No access log line and no application log line holds a citizen's personal data.

A journey: a citizen applies with their name, national ID, phone and address; the engine routes
the application; a clerk searches by national ID (the API and the page), opens the case and
reveals the values. Everything the server logs meanwhile (the project's loggers and Django's
request log at DEBUG, in the JSON format production uses and the plain one; and, through a real
gunicorn, its access log in the Procfile's configuration) is searched for the plaintext values:
none may appear. The journey itself checks that the values were really sent and shown.
"""

from __future__ import annotations

import datetime
import http.client
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts import actions as account_actions
from accounts.models import User
from core.logging import JsonFormatter, RequestContextFilter
from services.models import Application
from services.validators import make_national_id
from tests.data import LI_WEI_MOVING as MOVING
from tests.factories import UserFactory
from tests.support import ROOT, stop_process, wait_for
from workflows import routing

NATIONAL_ID = make_national_id("310104", datetime.date(1985, 6, 15), "123")
ANSWERS = {
    **MOVING,
    "applicant.full_name": "Zhang Sanfeng",
    "applicant.national_id": NATIONAL_ID,
    "applicant.phone": "13987654321",
    "applicant.address": "上海市徐汇区漕溪北路88号",
}
# The values that must never be logged, as typed and as a client might vary them.
PERSONAL = [
    ANSWERS["applicant.full_name"],
    NATIONAL_ID,
    NATIONAL_ID.lower(),
    ANSWERS["applicant.phone"],
    ANSWERS["applicant.address"],
    json.dumps(ANSWERS["applicant.address"])[1:-1],  # as an ASCII-escaped JSON string
]
PROJECT_LOGGERS = ["", "accounts", "audit", "config", "services", "workflows", "django.request"]


def leaks(text: str) -> list[str]:
    return [value for value in PERSONAL if value in text]


# --- In the test process: the project's loggers at DEBUG, both formats ------------------------


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every record of the project's loggers and Django's request log, at DEBUG, formatted as
    production (JSON) and as development (plain) would write them."""
    out = io.StringIO()
    handlers = []
    for formatter in (
        JsonFormatter(),
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"),
    ):
        handler = logging.StreamHandler(out)
        handler.setLevel(logging.DEBUG)
        handler.addFilter(RequestContextFilter())
        handler.setFormatter(formatter)
        handlers.append(handler)
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in PROJECT_LOGGERS}
    for handler in handlers:
        root.addHandler(handler)
    for name in PROJECT_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _token_api(user: User) -> APIClient:
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {account_actions.token_issue(actor=None, user=user).key}"
    )
    return api


@pytest.mark.django_db
def test_a_journey_logs_no_personal_value(captured_logs) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    citizen = UserFactory()
    api = _token_api(citizen)
    created = api.post(
        "/api/v1/applications/", {"services": ["moving-house"], "answers": ANSWERS}, format="json"
    )
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    assert api.post(f"/api/v1/applications/{reference}/submit/").status_code == 200
    routing.advance(application_id=Application.objects.get(reference=reference).pk)

    clerk = _token_api(User.objects.get(email="clerk.tax@demo.gov"))
    found = clerk.post("/api/v1/cases/search/", {"national_id": NATIONAL_ID}, format="json")
    [case] = found.json()["results"]
    revealed = clerk.post(
        f"/api/v1/cases/{case['reference']}/reveal/",
        {"fields": ["applicant.national_id", "applicant.full_name"], "purpose": "Matching records"},
        format="json",
    ).json()["values"]
    assert revealed["applicant.national_id"] == NATIONAL_ID
    # A client that puts the number in a query string is refused; the request log (which
    # records refusals) must not copy the query into the log line.
    assert clerk.get("/api/v1/cases/", {"q": NATIONAL_ID}).status_code == 400
    assert clerk.get("/api/v1/cases/C-2222-2222/", {"q": NATIONAL_ID}).status_code == 404

    page = Client()
    page.force_login(User.objects.get(email="lead.tax@demo.gov"))
    result = page.post("/workbench/search/", {"national_id": NATIONAL_ID}, follow=True)
    assert case["reference"] in result.content.decode()
    shown = page.post(
        f"/workbench/cases/{case['reference']}/reveal/",
        {"fields": ["applicant.full_name", "applicant.national_id"], "purpose": "Calling back"},
    )
    assert NATIONAL_ID in shown.content.decode()
    assert page.get("/workbench/", {"q": NATIONAL_ID}).status_code == 400

    text = captured_logs.getvalue()
    assert "Bad Request: /api/v1/cases/" in text and "Not Found: /api/v1/cases/" in text
    assert not leaks(text), f"personal data in the logs: {leaks(text)}\n{text[-3000:]}"


def test_the_json_log_writes_a_request_without_its_query_string(rf) -> None:
    """Django's request log passes the request itself; its repr holds the query string."""
    request = rf.get("/api/v1/cases/", {"q": NATIONAL_ID})
    record = logging.makeLogRecord(
        {"name": "django.request", "msg": "Bad Request: %s", "args": (request.path,)}
    )
    record.request = request
    record.status_code = 400
    line = json.loads(JsonFormatter().format(record))
    assert line["request"] == "GET /api/v1/cases/" and NATIONAL_ID not in json.dumps(line)


# --- Through gunicorn, as the Procfile runs it -----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Just enough of a browser over http.client: cookies, CSRF token, no redirects followed."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.port, self.cookies, self.last = port, dict(cookies or {}), ""

    def send(self, method: str, path: str, *, form=None, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.last:
            headers["Referer"] = self.last
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read().decode(errors="replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if method == "GET":
            self.last = f"http://127.0.0.1:{self.port}{path}"
        connection.close()
        return response.status, dict(response.getheaders()), content

    def csrf(self, page: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.fixture
def gunicorn(transactional_db, tmp_path) -> Iterator[tuple[int, Path, Path]]:
    """gunicorn serving the test database with the Procfile's access log (the default format:
    request line, status, referrer, user agent) and the application's logs at DEBUG, in JSON."""
    port = _free_port()
    access, errors = tmp_path / "access.log", tmp_path / "server.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PORTAL_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "PORTAL_TEST_LOG_LEVEL": "DEBUG",
        "PORTAL_TEST_LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        "PORTAL_TEST_EMAIL_DIR": str(tmp_path),
    }
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--access-logfile",
        str(access),
        "--log-level",
        "debug",
        "--forwarded-allow-ips",
        "127.0.0.1",
    ]
    with errors.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def up() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn did not start:\n{errors.read_text()[-3000:]}")
        try:
            return Browser(port).send("GET", "/healthz")[0] in (200, 503)
        except OSError:
            return False

    try:
        wait_for(up, timeout=60, interval=0.2)
        yield port, access, errors
    finally:
        stop_process(proc)


@pytest.mark.services
def test_a_journey_through_gunicorn_logs_no_personal_value(gunicorn, client) -> None:
    port, access, errors = gunicorn
    call_command("seed_demo", stdout=io.StringIO())
    citizen = UserFactory()
    citizen_token = account_actions.token_issue(actor=None, user=citizen).key
    clerk_token = account_actions.token_issue(
        actor=None, user=User.objects.get(email="clerk.tax@demo.gov")
    ).key

    app = Browser(port)
    auth = {"Authorization": f"Token {citizen_token}", "User-Agent": "portal-test/1"}
    status, _h, body = app.send(
        "POST",
        "/api/v1/applications/",
        body={"services": ["moving-house"], "answers": ANSWERS},
        headers=auth,
    )
    assert status == 201, body
    reference = json.loads(body)["reference"]
    status, _h, body = app.send("POST", f"/api/v1/applications/{reference}/submit/", headers=auth)
    assert status == 200, body
    routing.advance(application_id=Application.objects.get(reference=reference).pk)

    auth = {"Authorization": f"Token {clerk_token}"}
    status, _h, body = app.send(
        "POST", "/api/v1/cases/search/", body={"national_id": NATIONAL_ID}, headers=auth
    )
    [case] = json.loads(body)["results"]
    status, _h, body = app.send("GET", f"/api/v1/cases/{case['reference']}/", headers=auth)
    assert status == 200 and "Zhang Sanfeng" not in body
    status, _h, body = app.send(
        "POST",
        f"/api/v1/cases/{case['reference']}/reveal/",
        body={"fields": ["applicant.national_id"], "purpose": "Matching the tax record"},
        headers=auth,
    )
    assert json.loads(body)["values"]["applicant.national_id"] == NATIONAL_ID
    assert app.send("GET", "/api/v1/cases/C-2222-2222/", headers=auth)[0] == 404

    # The pages, in a signed-in session, as a browser sends them (cookies, CSRF, referrer).
    client.force_login(User.objects.get(email="lead.tax@demo.gov"))
    browser = Browser(port, {"sessionid": client.cookies["sessionid"].value})
    _s, _h, inbox = browser.send("GET", "/workbench/")
    status, headers, _b = browser.send(
        "POST",
        "/workbench/search/",
        form={"national_id": NATIONAL_ID, "csrfmiddlewaretoken": browser.csrf(inbox)},
    )
    assert status == 302, _b
    _s, _h, results = browser.send("GET", headers["Location"])
    assert case["reference"] in results
    _s, _h, page = browser.send("GET", f"/workbench/cases/{case['reference']}/")
    status, _h, shown = browser.send(
        "POST",
        f"/workbench/cases/{case['reference']}/reveal/",
        form={
            "fields": ["applicant.national_id"],
            "purpose": "Checking the identity",
            "csrfmiddlewaretoken": browser.csrf(page),
        },
    )
    assert status == 200 and NATIONAL_ID in shown
    browser.send("GET", "/workbench/")

    # gunicorn writes an access line after its response: wait for the journey's last one.
    wait_for(lambda: access.read_text().count("GET /workbench/ ") >= 2, timeout=10)
    access_log, server_log = access.read_text(), errors.read_text()
    assert "POST /api/v1/cases/search/" in access_log and "POST /workbench/search/" in access_log
    assert "Not Found: /api/v1/cases/C-2222-2222/" in server_log
    assert not leaks(access_log), f"personal data in the access log: {leaks(access_log)}"
    assert not leaks(server_log), f"personal data in the server's log: {leaks(server_log)}"
