"""Data for the load test (`make load`): run inside Django in a child process
(`bench.common.in_django`), made by the real actions."""

from __future__ import annotations

from typing import Any

from bench.scenarios._portal import DEPARTMENTS, prepare


def prepare_load(*, citizens: int, clerks_per_department: int, routed: int) -> dict[str, Any]:
    """The demo catalog, `citizens` citizens with profiles, `clerks_per_department` clerks in each
    department a moving house reaches, `routed` applications already routed (so the inboxes are
    not empty at the start); the API tokens of all of them and of the demo supervisor."""
    from io import StringIO

    from django.core.management import call_command

    from accounts import actions as accounts
    from accounts.constants import MembershipRole
    from accounts.models import Department, User

    data = prepare(citizens=citizens, routed=routed)

    def token(user: User) -> str:
        out = StringIO()  # the documented way to get a token: `manage.py issue_token <email>`
        call_command("issue_token", user.email, stdout=out)
        return out.getvalue().strip().splitlines()[-1]

    clerks = []
    for slug in DEPARTMENTS:
        department = Department.objects.get(slug=slug)
        for n in range(clerks_per_department):
            email = f"bench-clerk-{slug}-{n}@bench.invalid"
            user = User.objects.filter(email=email).first() or accounts.user_create(
                actor=None, email=email, password=None, full_name=f"Clerk {n}", email_verified=True
            )
            accounts.membership_grant(
                actor=None, user=user, department=department, role=MembershipRole.CLERK
            )
            clerks.append(token(user))
    supervisor = User.objects.get(email="supervisor@demo.gov")
    return {
        "citizens": data["citizens"],
        "clerks": clerks,
        "supervisors": [token(supervisor)],
        "routed_cases": sum(len(refs) for refs in data.get("cases", {}).values()),
    }


def routed() -> dict[str, dict[str, int]]:
    """Applications and cases by status at the end: the worker routed what citizens submitted."""
    from django.db.models import Count

    from services.models import Application
    from workflows.models import Case

    def by_status(model: Any) -> dict[str, int]:
        return dict(model.objects.values_list("status").annotate(n=Count("id")).order_by())

    return {"applications": by_status(Application), "cases": by_status(Case)}
