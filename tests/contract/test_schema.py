"""The OpenAPI schema documents what the API answers: each operation its own request body, every
error status it can give, paginated shapes; and the API holds to the strict parts of it (unknown
body fields, page sizes, empty dates, media types, oversized bodies are refused with a 4xx)."""

import pytest
from rest_framework.test import APIClient

from accounts.actions import token_issue
from services.models import Application
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/schema/?format=json").json()


@pytest.fixture
def citizen_token_api() -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(actor=None, user=UserFactory()).key}")
    return api


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_operation_documents_authentication_errors_and_its_own_404(schema):
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert {"401", "403"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method in ("POST", "PATCH"):
            assert "400" in codes, (method, path)
        if "requestBody" in operation:
            assert {"413", "415"} <= codes, (method, path)


def test_state_changing_operations_document_409(schema):
    paths = schema["paths"]
    for path in [
        "/api/v1/applications/{reference}/submit/",
        "/api/v1/applications/{reference}/withdraw/",
        "/api/v1/cases/{reference}/claim/",
        "/api/v1/cases/{reference}/approve/",
    ]:
        assert "409" in paths[path]["post"]["responses"], path
    assert "409" not in paths["/api/v1/applications/"]["post"]["responses"]


def test_each_case_action_has_its_own_request_body(schema):
    """The actions are made by one factory; each must keep its own schema, not the last one's."""
    paths = schema["paths"]

    def body(path):
        operation = paths[path]["post"]
        if "requestBody" not in operation:
            return None
        return operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]

    assert body("/api/v1/cases/{reference}/claim/") is None
    assert body("/api/v1/cases/{reference}/release/") is None
    assert body("/api/v1/cases/{reference}/approve/").endswith("/NoteInputRequest")
    assert body("/api/v1/cases/{reference}/reject/").endswith("/ReasonInputRequest")
    assert body("/api/v1/cases/{reference}/assign/").endswith("/AssignInputRequest")
    assert paths["/api/v1/cases/{reference}/claim/"]["post"]["summary"] == "Claim"


def test_lists_are_described_as_the_pages_they_are(schema):
    def ok(path):
        return paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]

    paths, components = schema["paths"], schema["components"]["schemas"]
    for path in ["/api/v1/services/", "/api/v1/applications/", "/api/v1/departments/"]:
        name = ok(path)["$ref"].rsplit("/", 1)[1]
        assert {"count", "next", "previous", "results"} <= set(components[name]["properties"])
    for path in ["/api/v1/audit/events/", "/api/v1/me/data-access/"]:
        name = ok(path)["$ref"].rsplit("/", 1)[1]
        assert {"next", "previous", "results"} <= set(components[name]["properties"])
    inbox = components[ok("/api/v1/cases/")["$ref"].rsplit("/", 1)[1]]
    assert {"results", "next", "counts", "counts_limit", "counts_limits"} <= set(
        inbox["properties"]
    )


def test_request_bodies_refuse_unknown_fields(schema, citizen_token_api):
    assert schema["components"]["schemas"]["ApplicationCreateInputRequest"][
        "additionalProperties"
    ] is (False)
    response = citizen_token_api.post(
        "/api/v1/applications/",
        {"services": ["moving-house"], "answer": {"household.size": 2}},  # misspelt
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"errors": {"answer": ["Unknown field."]}}
    assert not Application.objects.exists()


@pytest.mark.parametrize("size", ["0", "-1", "abc", "", "1.5", "٣"])
@pytest.mark.parametrize(
    "path", ["/api/v1/applications/", "/api/v1/cases/", "/api/v1/me/data-access/"]
)
def test_a_page_size_that_is_not_a_whole_number_is_refused(citizen_token_api, path, size):
    response = citizen_token_api.get(path, {"page_size": size})
    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]


def test_a_large_page_size_is_cut_to_the_maximum(citizen_token_api):
    assert (
        citizen_token_api.get("/api/v1/applications/", {"page_size": "100000"}).status_code == 200
    )


def test_an_empty_date_in_the_audit_search_is_refused():
    supervisor = UserFactory(supervisor=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(actor=None, user=supervisor).key}")
    assert api.get("/api/v1/audit/events/", {"since": ""}).status_code == 400
    assert api.get("/api/v1/audit/events/", {"since": "2026-11-27T00:00:00Z"}).status_code == 200


def test_a_form_body_to_a_json_operation_is_415(citizen_token_api):
    response = citizen_token_api.patch("/api/v1/me/profile/", "facts=1", content_type="text/plain")
    assert response.status_code == 415
    assert set(response.json()) == {"detail"}


def test_a_throttled_view_documents_429():
    """Throttles added to a view (or as a default) appear in its schema without more work."""
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.response import Response
    from rest_framework.throttling import UserRateThrottle
    from rest_framework.views import APIView

    class Throttled(APIView):
        throttle_classes = [UserRateThrottle]

        def get(self, request):
            return Response({})

    class Free(Throttled):
        throttle_classes = []

    generator = SchemaGenerator(
        patterns=[path("api/t/", Throttled.as_view()), path("api/f/", Free.as_view())]
    )
    paths = generator.get_schema(request=None, public=True)["paths"]
    assert "429" in paths["/api/t/"]["get"]["responses"]
    assert "429" not in paths["/api/f/"]["get"]["responses"]
