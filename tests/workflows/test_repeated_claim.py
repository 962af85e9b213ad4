"""Repeated claims of a case by the clerk who already holds it change nothing and write no
audit event (a double click or a retried request must not flood the audit log); the first claim
and a claim of a case assigned but not started still work and are recorded."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from audit.models import AuditEvent
from workflows import actions
from workflows.models import Case

pytestmark = pytest.mark.django_db


def claims(case) -> int:
    return AuditEvent.objects.filter(action="case.claim", target_ref=case.reference).count()


def test_repeated_claims_by_the_holder_record_nothing(tax_case):
    clerk = User.objects.get(email="clerk.tax@demo.gov")
    api = APIClient()
    api.force_authenticate(clerk)
    first = api.post(f"/api/v1/cases/{tax_case.reference}/claim/")
    assert first.status_code == 200 and first.json()["status"] == "in_progress"
    assert claims(tax_case) == 1
    before = Case.objects.values().get(pk=tax_case.pk)
    events = AuditEvent.objects.count()
    for _ in range(5):
        again = api.post(f"/api/v1/cases/{tax_case.reference}/claim/")
        assert again.status_code == 200 and again.json()["status"] == "in_progress"
    assert claims(tax_case) == 1
    # The only events are the reads of the case the responses show (masked), as for a GET.
    new = AuditEvent.objects.filter(pk__gt=AuditEvent.objects.order_by("pk")[events - 1].pk)
    assert set(new.values_list("action", flat=True)) == {"pii.read"}
    assert Case.objects.values().get(pk=tax_case.pk) == before  # not even updated_at moved


def test_the_claim_action_repeated_writes_no_event_at_all(tax_case):
    clerk = User.objects.get(email="clerk.tax@demo.gov")
    actions.case_claim(case=tax_case, actor=clerk)
    events = AuditEvent.objects.count()
    before = Case.objects.values().get(pk=tax_case.pk)
    for _ in range(3):
        assert actions.case_claim(case=tax_case, actor=clerk).status == "in_progress"
    assert AuditEvent.objects.count() == events
    assert Case.objects.values().get(pk=tax_case.pk) == before


def test_a_second_clerk_still_cannot_take_it(tax_case):
    from tests.factories import MembershipFactory, UserFactory

    holder = User.objects.get(email="clerk.tax@demo.gov")
    actions.case_claim(case=tax_case, actor=holder)
    other = UserFactory()
    MembershipFactory(user=other, department=tax_case.department)
    api = APIClient()
    api.force_authenticate(other)
    assert api.post(f"/api/v1/cases/{tax_case.reference}/claim/").status_code == 409
    assert claims(tax_case) == 1
