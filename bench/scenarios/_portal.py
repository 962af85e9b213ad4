"""Portal data shared by the submit, routing and memory scenarios: the demo catalog, citizens and
clerks with API tokens, and a moving-house application that routes to three departments.

The functions that touch the ORM run in a child process (`bench.common.in_django`), so the
runner itself never sets Django up for one scenario's database.
"""

from __future__ import annotations

import os
from typing import Any

# Moving house with a vehicle and no school-age children: three independent steps, routed at
# once to household registration, tax and transport (demo/data/demo.json).
SERVICE = "moving-house"
DEPARTMENTS = ("household-registration", "tax", "transport")
PROFILE_FACTS: dict[str, Any] = {
    "applicant.full_name": "王小明",
    "applicant.national_id": "11010519491231002X",
    "applicant.date_of_birth": "1990-05-17",
    "applicant.phone": "13812345678",
    "applicant.email": "wang@example.com",
    "applicant.address": "北京市东城区景山前街4号",
}
# What the citizen types; the applicant's facts are prefilled from the profile.
MOVE_ANSWERS: dict[str, Any] = {
    "move.new_address": "上海市黄浦区人民大道200号",
    "move.date": "2026-11-01",
    "household.size": 3,
    "household.has_vehicle": True,
    "household.has_school_children": False,
    "vehicle.plate": "京A12345",
}
CREATE_BODY = {"services": [SERVICE], "answers": MOVE_ANSWERS}


def prepare(
    *, citizens: int, clerks: bool = False, routed: int = 0, applications_each: int = 0
) -> dict[str, Any]:
    """Seed the demo catalog and departments, then `citizens` verified citizens with a profile;
    returns their API tokens (and the demo clerks' tokens when `clerks`, and the cases of
    `routed` routed applications by department). Each citizen starts with `applications_each`
    submitted applications."""
    from django.core.management import call_command

    from accounts import actions as accounts
    from accounts.models import User
    from services import actions as services

    os.environ.setdefault("DEMO_PASSWORD", "bench-demo-password")
    call_command("seed_demo", verbosity=0)
    tokens = []
    for n in range(citizens):
        email = f"bench-citizen-{n}@bench.invalid"
        user = User.objects.filter(email=email).first() or accounts.user_create(
            actor=None, email=email, password=None, full_name=f"Citizen {n}", email_verified=True
        )
        services.profile_update(user=user, facts=PROFILE_FACTS)
        for _ in range(applications_each):
            submit_in_process(user)
        tokens.append(accounts.token_issue(actor=None, user=user).key)
    result: dict[str, Any] = {"citizens": tokens}
    if clerks:
        result["clerks"] = {
            slug: accounts.token_issue(
                actor=None, user=User.objects.get(email=f"clerk.{slug}@demo.gov")
            ).key
            for slug in DEPARTMENTS
        }
    if routed:
        result["cases"] = route_some(count=routed)
    return result


def submit_in_process(user: Any) -> Any:
    """Create and submit one moving-house application through the actions (as the API does)."""
    from services import actions, selectors

    versions = selectors.versions_published_for(slugs=[SERVICE])
    application = actions.application_create(citizen=user, versions=versions, answers=MOVE_ANSWERS)
    return actions.application_submit(application=application, actor=user)


def route_some(*, count: int) -> dict[str, list[str]]:
    """Submit `count` applications of the first bench citizen and route them in this process
    (no worker needed); returns the new cases' references by department."""
    from accounts.models import User
    from workflows.models import Case
    from workflows.routing import advance

    citizen = User.objects.filter(email__startswith="bench-citizen-").order_by("pk").first()
    ids = [submit_in_process(citizen).pk for _ in range(count)]
    for application_id in ids:
        advance(application_id=application_id)
    cases: dict[str, list[str]] = {}
    for slug, reference in Case.objects.filter(application_id__in=ids).values_list(
        "department__slug", "reference"
    ):
        cases.setdefault(slug, []).append(reference)
    return cases
