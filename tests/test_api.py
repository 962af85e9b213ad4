"""API conventions: OpenAPI schema and docs, session and token auth, pagination, error format."""

import pytest
import yaml
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from accounts import actions
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_served_and_valid(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    assert "/api/v1/departments/" in schema["paths"]


def test_openapi_schema_as_json(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    validate(response.json())


def test_interactive_docs_load_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger-ui" in body
    assert "cdn.jsdelivr" not in body and "unpkg" not in body


def test_anonymous_gets_detail_error():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail"}


def test_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_session_auth_works_for_the_browser(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "email": user.email,
        "full_name": user.full_name,
        "role": "citizen",
        "memberships": [],
    }


def test_token_auth_works_and_a_bad_token_is_refused():
    user = UserFactory()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + actions.token_issue(actor=None, user=user).key)
    assert api.get("/api/v1/me/").json()["email"] == user.email
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_lists_are_paginated(client):
    for _ in range(3):
        DepartmentFactory()
    body = client.get("/api/v1/departments/?page_size=2").json()
    assert set(body) >= {"results", "next", "previous", "count"}
    assert len(body["results"]) == 2 and body["next"]
    assert client.get(body["next"]).json()["next"] is None


def test_a_page_past_the_end_is_a_404_not_a_500(client):
    response = client.get("/api/v1/departments/?page=99")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def test_validation_errors_use_the_errors_shape():
    from rest_framework import serializers

    from core.api import exception_handler

    response = exception_handler(
        serializers.ValidationError({"email": ["Enter a valid email."]}), {}
    )
    assert response.status_code == 400
    assert response.data == {"errors": {"email": ["Enter a valid email."]}}
    response = exception_handler(serializers.ValidationError("Nope."), {})
    assert response.data == {"errors": {"non_field_errors": ["Nope."]}}


@pytest.mark.parametrize(
    "path", ["/api/v1/departments/?q=%00", "/api/v1/me%00/", "/services/?q=a%00b"]
)
def test_nul_characters_in_urls_are_a_400(client, path):
    response = client.get(path)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body", ['{"answers": 1e999}', '{"a": NaN}', "[" * 5000 + "]" * 5000, "{not json"]
)
def test_unparseable_json_is_a_400_with_detail(body):
    api = APIClient()
    api.force_authenticate(UserFactory())
    response = api.patch("/api/v1/me/profile/", body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


def test_every_endpoint_is_described_without_warnings():
    """drf-spectacular warns about views it cannot describe; the schema must have none."""
    from io import StringIO

    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())
