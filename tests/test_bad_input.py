"""Bad parameters and bodies found in review: each is a 4xx or an empty result, never a 500."""

import base64
import json

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import UserFactory, api_for

pytestmark = pytest.mark.django_db


def cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "assignee=%C2%B2",
        "assignee=" + "9" * 40,
        "cursor=" + cursor(["2020-01-01T00:00:00+00:00", 1e300]),
        "cursor=" + cursor(["2020-01-01T00:00:00", True]),
        "cursor=" + cursor(["not a date", 1]),
    ],
)
def test_inbox_parameters(demo, query, client):
    assert api_for("clerk.tax@demo.gov").get(f"/api/v1/cases/?{query}").status_code == 200
    client.force_login(User.objects.get(email="clerk.tax@demo.gov"))
    assert client.get(f"/workbench/?{query}").status_code == 200


@pytest.mark.parametrize("query", ["since=2026-13-01T00:00:00", "until=2026-02-30T00:00:00"])
def test_audit_api_impossible_dates_are_a_400(demo, query):
    response = api_for("supervisor@demo.gov").get(f"/api/v1/audit/events/?{query}")
    assert response.status_code == 400 and "errors" in response.json()


@pytest.mark.parametrize(
    "query", ["since=2026-13-01", "until=2026-02-30", "actor=%C2%B2", "subject=" + "9" * 40]
)
def test_audit_pages_bad_filters(demo, client, query):
    client.force_login(User.objects.get(email="supervisor@demo.gov"))
    assert client.get(f"/audit/?{query}").status_code == 200
    response = api_for("supervisor@demo.gov").get(f"/api/v1/audit/events/?{query}")
    assert response.status_code == (400 if query.startswith(("since", "until")) else 200)


def test_a_lone_surrogate_is_a_400():
    api = APIClient()
    api.force_authenticate(UserFactory())
    body = '{"facts": {"applicant.full_name": "x\\ud800"}}'
    response = api.patch("/api/v1/me/profile/", body, content_type="application/json")
    assert response.status_code == 400 and set(response.json()) == {"detail"}
