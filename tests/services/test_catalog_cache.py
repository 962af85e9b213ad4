"""Submit path: the catalog cached per process (`services.catalog`) is never
served stale. Any write to the dictionary, the services or their versions, through the actions
or not, committed by this process or another, is seen by the next read; a request sees its own
edits; an edit rolled back is not served. Also: the row lock that the API takes with the
permission check is trusted only inside the transaction that took it."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, transaction

from services import actions, selectors
from services.catalog import catalog_memo
from services.constants import VersionStatus
from services.models import Application, FieldDefinition, Service
from tests.data import MOVING

BODY = {"services": ["moving-house"], "answers": MOVING}


def title_of(api, key: str) -> str:
    response = api.post("/api/v1/applications/", BODY, format="json")
    assert response.status_code == 201
    return response.json()["form"]["properties"][key]["title"]


def test_an_edit_that_bypasses_the_actions_is_seen_by_the_next_request(catalog, api):
    before = title_of(api, "move.date")  # the cache now holds the catalog
    FieldDefinition.objects.filter(key="move.date").update(label="Day you move")
    assert before != "Day you move"
    assert title_of(api, "move.date") == "Day you move"


def test_a_deactivated_service_is_refused_by_the_next_request(catalog, api):
    assert api.post("/api/v1/applications/", BODY, format="json").status_code == 201
    Service.objects.filter(slug="moving-house").update(active=False)
    response = api.post("/api/v1/applications/", BODY, format="json")
    assert response.status_code == 400
    assert "services" in response.json()["errors"]


def test_a_newly_published_version_is_used_by_the_next_request(catalog, api):
    first = api.post("/api/v1/applications/", BODY, format="json").json()
    service = Service.objects.get(slug="moving-house")
    current = service.versions.get(status=VersionStatus.PUBLISHED)
    draft = actions.service_version_draft(actor=None, service=service)
    actions.service_version_publish(actor=None, version=draft)
    second = api.post("/api/v1/applications/", BODY, format="json").json()
    numbers = {
        reference: Application.objects.get(reference=reference).versions.get().number
        for reference in (first["reference"], second["reference"])
    }
    assert numbers == {first["reference"]: current.number, second["reference"]: draft.number}


def test_a_request_sees_its_own_edit(catalog):
    with catalog_memo():  # as inside a request
        assert selectors.dictionary()["move.date"].label != "Day you move"
        actions.field_definition_save(actor=None, key="move.date", label="Day you move")
        assert selectors.dictionary()["move.date"].label == "Day you move"
        actions.service_update(
            actor=None, service=Service.objects.get(slug="moving-house"), active=False
        )
        assert selectors.versions_published_for(slugs=["moving-house"]) == []


def test_an_edit_rolled_back_is_not_served(catalog):
    original = selectors.dictionary()["move.date"].label

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        FieldDefinition.objects.filter(key="move.date").update(label="Never committed")
        assert selectors.dictionary()["move.date"].label == "Never committed"
        raise Undo
    assert selectors.dictionary()["move.date"].label == original


@pytest.mark.django_db(transaction=True)
def test_an_edit_committed_by_another_process_is_seen(require_postgres, catalog):
    assert selectors.dictionary()["move.date"].label != "Day you move"
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    ) as other:
        other.execute(
            "UPDATE services_fielddefinition SET label = 'Day you move' WHERE key = 'move.date'"
        )
    assert selectors.dictionary()["move.date"].label == "Day you move"


@pytest.mark.django_db(transaction=True)
def test_a_lock_is_trusted_only_in_the_transaction_that_took_it(catalog, citizen):
    versions = selectors.versions_published_for(slugs=["moving-house"])
    reference = actions.application_create(citizen=citizen, versions=versions).reference
    with transaction.atomic():
        locked = selectors.application_of_citizen(
            user=citizen, reference=reference, for_update=True
        )
        assert selectors.locked_in_this_transaction(locked)
    with transaction.atomic():
        assert not selectors.locked_in_this_transaction(locked)  # a new transaction
    with transaction.atomic():
        with transaction.atomic():  # a savepoint rolled back releases the lock taken in it
            locked = selectors.application_of_citizen(
                user=citizen, reference=reference, for_update=True
            )
            transaction.set_rollback(True)
        assert not selectors.locked_in_this_transaction(locked)
    assert selectors.application_of_citizen(user=citizen, reference=reference) is not None
