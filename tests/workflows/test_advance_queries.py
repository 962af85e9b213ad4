"""Routing cost: routing an application to three departments takes a bounded
number of queries (cases and their grants written in bulk) and still gives each department's
group its permissions on its own case only."""

from __future__ import annotations

import pytest
from guardian.shortcuts import get_perms

from tests.factories import submit_moving
from workflows.routing import advance

pytestmark = pytest.mark.django_db


def test_routing_three_departments_is_bulk_and_grants_each_its_case(
    demo, django_assert_max_num_queries
):
    application = submit_moving(vehicle=True)
    with django_assert_max_num_queries(16):
        advance(application_id=application.pk)
    cases = list(application.cases.select_related("department__group"))
    assert {c.department.slug for c in cases} == {"household-registration", "tax", "transport"}
    for case in cases:
        assert set(get_perms(case.department.group, case)) == {"view_case", "change_case"}
        for other in cases:
            if other.department_id != case.department_id:
                assert get_perms(other.department.group, case) == []
