"""Expected 403s and 404s (PermissionDenied, Http404, DRF's NotFound and PermissionDenied) are
logged as one warning line each, without a traceback; real errors keep theirs."""

import logging

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from core.logging import ExpectedErrorFilter, JsonFormatter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


def assert_one_line(caplog, status):
    lines = request_lines(caplog)
    assert len(lines) == 1, [r.getMessage() for r in lines]
    record = lines[0]
    assert record.levelno == logging.WARNING and record.status_code == status
    assert record.exc_info is None
    formatted = logging.Formatter().format(record) + JsonFormatter().format(record)
    assert "Traceback" not in formatted and "\n" not in formatted


def test_http404_raised_by_a_page(caplog, client):
    client.force_login(UserFactory())
    caplog.set_level(logging.WARNING, logger="django.request")
    assert client.get("/audit/").status_code == 404  # raises Http404 for non-supervisors
    assert_one_line(caplog, 404)


def test_permission_denied_raised_by_a_page(caplog, client, tax_case):
    client.force_login(User.objects.get(email="supervisor@demo.gov"))
    caplog.set_level(logging.WARNING, logger="django.request")
    response = client.post(f"/workbench/cases/{tax_case.reference}/approve/", {"note": "x"})
    assert response.status_code == 403
    assert_one_line(caplog, 403)


def test_drf_permission_denied_and_not_found(caplog):
    api = APIClient()
    api.force_authenticate(UserFactory())
    caplog.set_level(logging.WARNING, logger="django.request")
    assert api.get("/api/v1/audit/events/").status_code == 403
    assert_one_line(caplog, 403)
    caplog.clear()
    assert api.get("/api/v1/applications/A-ZZZZ-ZZZZ/").status_code == 404
    assert_one_line(caplog, 404)


def test_other_errors_keep_their_traceback():
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), None)
    try:
        raise ValueError("real failure")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    ExpectedErrorFilter().filter(record)
    assert record.exc_info is not None
