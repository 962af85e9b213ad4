"""Submit path: creating and submitting an application through the API reads the
data dictionary at most once per request (and not at all while the catalog is unchanged), takes
a bounded number of queries, and an edit of the dictionary is seen by the next request."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from services.actions import field_definition_save
from tests.data import MOVING

BODY = {"services": ["moving-house"], "answers": MOVING}


def dictionary_reads(queries: CaptureQueriesContext) -> int:
    return sum('FROM "services_fielddefinition"' in q["sql"] for q in queries.captured_queries)


def create_and_submit(api) -> tuple[CaptureQueriesContext, CaptureQueriesContext]:
    with CaptureQueriesContext(connection) as created:
        response = api.post("/api/v1/applications/", BODY, format="json")
    assert response.status_code == 201
    with CaptureQueriesContext(connection) as submitted:
        done = api.post(f"/api/v1/applications/{response.json()['reference']}/submit/")
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    return created, submitted


def test_the_dictionary_is_read_once_then_kept_while_the_catalog_is_unchanged(catalog, api):
    created, submitted = create_and_submit(api)
    assert dictionary_reads(created) + dictionary_reads(submitted) == 1
    created, submitted = create_and_submit(api)
    assert dictionary_reads(created) == dictionary_reads(submitted) == 0


def test_create_and_submit_take_a_bounded_number_of_queries(
    catalog, api, django_assert_max_num_queries
):
    create_and_submit(api)  # the catalog cache loads after the fixture changed the catalog
    with django_assert_max_num_queries(11):
        response = api.post("/api/v1/applications/", BODY, format="json")
    assert response.status_code == 201
    with django_assert_max_num_queries(11):
        done = api.post(f"/api/v1/applications/{response.json()['reference']}/submit/")
    assert done.json()["status"] == "submitted"


def test_a_changed_label_is_seen_by_the_next_request(catalog, api):
    first = api.post("/api/v1/applications/", BODY, format="json").json()
    field_definition_save(actor=None, key="move.date", label="Day you move")
    again = api.get(f"/api/v1/applications/{first['reference']}/").json()
    assert first["form"]["properties"]["move.date"]["title"] != "Day you move"
    assert again["form"]["properties"]["move.date"]["title"] == "Day you move"
