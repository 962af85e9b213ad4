"""Catalog actions: publish, immutability of published versions, version pinning, admin, seed."""

from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from services import actions
from services.constants import VersionStatus
from services.models import FieldDefinition, Service, ServiceVersion
from services.selectors import versions_published_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_publishes_three_life_events_with_dependencies_and_conditions(demo):
    versions = versions_published_for(slugs=["newborn", "moving-house", "start-business"])
    assert len(versions) == 3
    for version in versions:
        steps = version.workflow["steps"]
        assert len({s["department"] for s in steps}) >= 3
        assert any(s.get("depends_on") for s in steps)
        assert any(s.get("condition") for s in steps)


def test_seed_catalog_is_idempotent(demo):
    before = (
        FieldDefinition.objects.count(),
        ServiceVersion.objects.count(),
        AuditEvent.objects.count(),
    )
    call_command("seed_demo", stdout=StringIO())
    assert (
        FieldDefinition.objects.count(),
        ServiceVersion.objects.count(),
        AuditEvent.objects.count(),
    ) == before


def test_a_published_version_cannot_change(demo):
    version = versions_published_for(slugs=["newborn"])[0]
    with pytest.raises(actions.WrongState):
        actions.service_version_update(actor=None, version=version, fields=[], workflow={})
    version.refresh_from_db()
    assert version.fields


def test_editing_makes_a_new_draft_and_publishing_retires_the_old(demo):
    old = versions_published_for(slugs=["moving-house"])[0]
    draft = actions.service_version_draft(actor=None, service=old.service)
    assert (draft.number, draft.status, draft.fields) == (
        old.number + 1,
        VersionStatus.DRAFT,
        old.fields,
    )
    assert (
        actions.service_version_draft(actor=None, service=old.service) == draft
    )  # one draft at a time
    fields = [f for f in draft.fields if f["key"] != "applicant.email"]
    actions.service_version_update(
        actor=None, version=draft, fields=fields, workflow=draft.workflow
    )
    actions.service_version_publish(actor=None, version=draft)
    old.refresh_from_db()
    assert old.status == VersionStatus.RETIRED
    assert versions_published_for(slugs=["moving-house"])[0].pk == draft.pk
    assert AuditEvent.objects.filter(
        action="catalog.version_publish", target_ref=f"moving-house:{draft.number}"
    ).exists()


def test_an_application_keeps_the_version_it_started_with(demo):
    citizen = UserFactory()
    old = versions_published_for(slugs=["moving-house"])[0]
    application = actions.application_create(citizen=citizen, versions=[old])
    draft = actions.service_version_draft(actor=None, service=old.service)
    actions.service_version_publish(actor=None, version=draft)
    assert list(application.versions.all()) == [old]
    assert {f.key for f in actions.application_form(application)} == {f["key"] for f in old.fields}


def test_publishing_an_invalid_draft_is_refused_with_reasons(demo):
    service = Service.objects.get(slug="start-business")
    draft = actions.service_version_draft(actor=None, service=service)
    bad = {"steps": [{"id": "a", "department": "nowhere", "fields": [], "depends_on": ["a"]}]}
    with pytest.raises(actions.InvalidInput) as excinfo:
        actions.service_version_update(actor=None, version=draft, fields=draft.fields, workflow=bad)
    assert any("nowhere" in m for m in excinfo.value.errors["workflow"])
    draft.refresh_from_db()
    assert draft.workflow != bad


def test_admin_shows_what_is_wrong_with_a_version(demo, client):
    client.force_login(UserFactory(admin=True))
    service = Service.objects.get(slug="start-business")
    response = client.post(
        "/admin/services/serviceversion/add/",
        {
            "service": service.pk,
            "fields": '[{"key": "no.such_field", "required": true}]',
            "workflow": '{"steps": ['
            '{"id": "a", "department": "tax", "fields": [], "depends_on": ["b"]}, '
            '{"id": "b", "department": "atlantis", "fields": [], "depends_on": ["a"]}]}',
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "no.such_field" in body and "atlantis" in body and "cycle" in body
    assert not ServiceVersion.objects.filter(service=service, status=VersionStatus.DRAFT).exists()


def test_admin_publishes_a_draft(demo, client):
    admin_user = UserFactory(admin=True)
    client.force_login(admin_user)
    service = Service.objects.get(slug="start-business")
    draft = actions.service_version_draft(actor=None, service=service)
    response = client.post(
        "/admin/services/serviceversion/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert AuditEvent.objects.filter(action="catalog.version_publish", actor=admin_user).exists()
