"""The suite's own machinery: a restored demo snapshot is what the real seed writes, and the
factories' traits give the states they name, through the real actions."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import Department, Membership, User
from audit.actions import audit_seal
from audit.models import AuditEvent
from audit.selectors import audit_verify
from services.models import FieldDefinition, Service, ServiceVersion
from services.selectors import versions_published_for
from tests.factories import ApplicationFactory, CaseFactory, ServiceFactory, UserFactory
from tests.fixtures import _seed_catalog, _seed_demo

pytestmark = pytest.mark.django_db


def _without_ids(details: dict) -> dict:
    """Details with row ids (which differ between two seeds) left out."""
    return {
        k: "<id>" if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in details.items()
    }


def _signature() -> dict:
    """Everything the seed decides (not its random parts: nonces, authenticators, salts)."""
    return {
        "departments": sorted(Department.objects.values_list("slug", "name", "contact_email")),
        "users": sorted(User.objects.values_list("email", "full_name", "staff_role")),
        "memberships": sorted(
            Membership.objects.values_list("user__email", "department__slug", "role")
        ),
        "fields": sorted(FieldDefinition.objects.values_list("key", "label", "type")),
        "services": sorted(Service.objects.values_list("slug", "name", "active")),
        "versions": sorted(
            (v.service.slug, v.number, v.status, repr(v.fields), repr(v.workflow))
            for v in ServiceVersion.objects.select_related("service")
        ),
        "events": [
            (e.action, e.target_type, e.actor_role, repr(_without_ids(e.details)))
            for e in AuditEvent.objects.order_by("id")
        ],
    }


def _restored_then_seeded(snapshot, seed) -> tuple[dict, dict]:
    with transaction.atomic():
        snapshot.restore()
        restored = _signature()
        assert audit_seal() == len(restored["events"])  # restored events chain and verify
        assert audit_verify()["valid"]
        transaction.set_rollback(True)
    seed()
    return restored, _signature()


def test_the_restored_catalog_is_what_the_seed_writes(_catalog_snapshot, db):
    restored, seeded = _restored_then_seeded(_catalog_snapshot, _seed_catalog)
    assert restored == seeded
    assert restored["events"] and restored["versions"] and not restored["users"]


def test_the_restored_demo_is_what_seed_demo_writes(_demo_snapshot, db):
    restored, seeded = _restored_then_seeded(_demo_snapshot, _seed_demo)
    assert restored == seeded
    assert restored["events"] and restored["versions"] and restored["memberships"]


def test_the_minimal_catalog_is_one_published_service(db):
    service = ServiceFactory(minimal_catalog=True)
    (version,) = versions_published_for(slugs=[service.slug])
    (step,) = version.workflow["steps"]
    application = ApplicationFactory(services=[service.slug], answers={}, citizen=UserFactory())
    assert Department.objects.filter(slug=step["department"]).exists()
    assert application.status == "draft"


def test_application_traits(catalog):
    assert ApplicationFactory().status == "draft"
    assert ApplicationFactory(submitted=True).status == "submitted"
    routed = ApplicationFactory(routed=True, vehicle=True)
    assert set(routed.cases.values_list("step", flat=True)) == {"household", "tax", "vehicle"}
    assert ApplicationFactory(withdrawn=True).status == "withdrawn"


def test_case_traits(catalog):
    assert CaseFactory().status == "open"
    claimed = CaseFactory(claimed=True)
    assert claimed.status == "in_progress" and claimed.assignee is not None
    assert CaseFactory(approved=True).status == "approved"
    assert CaseFactory(rejected=True).status == "rejected"
    assert CaseFactory(info_requested=True).status == "awaiting_citizen"
