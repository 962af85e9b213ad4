"""Scenario 6, the dashboards: the city's figures (a supervisor) and a department's (its lead)
through the real API served by gunicorn (`GET /api/v1/dashboard/`, the default period of 30
days), against a bare page that reads one row of the summary state with the same authentication
(`bench.baseline.views.SummaryRow`), on a small database (10,000 cases) and a big one
(1,000,000 cases; 50,000 in the quick run). The seeder fills the summary tables with the
refresh beat runs (`oversight.actions.summaries_refresh`).

Targets: p95 on the big database at most 1.5 times that on the small one; p95 under 2 times the
bare page's p95 (each database).

Requests are sequential on one keep-alive connection, the three pages interleaved, so drift on
the shared machine hits the portal and the baseline alike.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from urllib.parse import urlsplit

from bench.common import (
    FULL,
    SMALL,
    Context,
    Figure,
    gunicorn,
    in_django,
    median_p95,
    versus,
)
from bench.scenarios.inbox import seeded_database as _database

SCENARIO = "dashboard"
SCALE_TARGET = 1.5
BARE_TARGET = 2.0


# --- in the child process (Django set up for one database) ------------------------------------


def prepare() -> dict:
    """A supervisor and the lead of the busiest department, with API tokens; the size of the
    summary tables; one refresh with nothing changed (what beat costs when the city is quiet)."""
    from django.db.models import Count

    from accounts import actions
    from accounts.models import Membership, User
    from core.roles import StaffRole
    from oversight.actions import summaries_refresh
    from oversight.models import BacklogCount, CaseFact, DecisionCount
    from workflows.models import Case

    supervisor = User.objects.filter(staff_role=StaffRole.SUPERVISOR, is_active=True).first()
    if supervisor is None:
        supervisor = actions.user_create(
            actor=None,
            email="bench.supervisor@demo.gov",
            password=None,
            staff_role=StaffRole.SUPERVISOR,
        )
    busiest = (
        Case.objects.values("department_id")
        .annotate(n=Count("id"))
        .order_by("-n", "department_id")
        .first()
    )
    lead = (
        Membership.objects.filter(department_id=busiest["department_id"], role="lead")
        .select_related("user")
        .order_by("user__email")
        .first()
        .user
    )
    started = time.perf_counter()
    reread = summaries_refresh()
    quiet_refresh_ms = (time.perf_counter() - started) * 1000
    return {
        "tokens": {
            "supervisor": actions.token_issue(actor=None, user=supervisor).key,
            "lead": actions.token_issue(actor=None, user=lead).key,
        },
        "cases": CaseFact.objects.count(),
        "backlog_rows": BacklogCount.objects.count(),
        "decision_rows": DecisionCount.objects.count(),
        "quiet_refresh_ms": round(quiet_refresh_ms, 1),
        "quiet_refresh_rows": reread,
    }


PAGES = {
    "city dashboard": ("supervisor", "/api/v1/dashboard/"),
    "department dashboard": ("lead", "/api/v1/dashboard/"),
    "bare summary row": ("supervisor", "/bench/summary/"),
}


# --- in the runner -----------------------------------------------------------------------------


def _measure(url: str, info: dict, *, runs: int, requests: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in PAGES}
    with gunicorn(url) as base:
        target = urlsplit(base)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)

        def get(who: str, path: str) -> float:
            headers = {"Authorization": f"Token {info['tokens'][who]}"}
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}: {body[:300]!r}")
            json.loads(body)
            return elapsed

        for _ in range(20):
            for who, path in PAGES.values():
                get(who, path)
        for _run in range(runs):
            for _ in range(requests):
                for name, (who, path) in PAGES.items():
                    samples[name].append(get(who, path))
        conn.close()
    return samples


def run(ctx: Context) -> list[Figure]:
    small_cases = SMALL.cases
    big_cases = FULL.cases if not ctx.quick else 50_000
    requests = int(os.environ.get("BENCH_DASHBOARD_REQUESTS", 100 if ctx.quick else 300))
    databases = {
        "small": _database("portal_bench_dashboard_small", small_cases, ctx),
        "big": _database(
            "portal_bench_dashboard_full" if not ctx.quick else "portal_bench_dashboard_quick",
            big_cases,
            ctx,
        ),
    }
    label = {"small": f"{small_cases // 1000}k", "big": f"{big_cases // 1000}k"}
    figures: list[Figure] = []
    p95: dict[str, dict[str, float]] = {}
    medians: dict[str, dict[str, float]] = {}
    for size, url in databases.items():
        info = in_django("bench.scenarios.dashboard:prepare", database=url)
        samples = _measure(url, info, runs=ctx.runs, requests=requests)
        p95[size], medians[size] = {}, {}
        for name, values in samples.items():
            medians[size][name], p95[size][name] = median_p95(values)
        context = {k: v for k, v in info.items() if k != "tokens"}
        for page in ("city dashboard", "department dashboard"):
            ours, bare = p95[size][page], p95[size]["bare summary row"]
            figures.append(
                versus(
                    SCENARIO,
                    f"{page} p95 at {label[size]} cases vs bare summary row",
                    ours,
                    bare,
                    "ms",
                    target=f"< {BARE_TARGET}x the bare page's p95",
                    met=ours / bare < BARE_TARGET,
                    extra={
                        "median": medians[size][page],
                        "bare_median": medians[size]["bare summary row"],
                        **context,
                    },
                )
            )
            print(
                f"  {page} at {label[size]}: median {medians[size][page]:.2f} ms, p95 "
                f"{ours:.2f} ms (bare {medians[size]['bare summary row']:.2f} / {bare:.2f}); "
                f"{context}",
                flush=True,
            )
    for page in ("city dashboard", "department dashboard"):
        small, big = p95["small"][page], p95["big"][page]
        figures.append(
            versus(
                SCENARIO,
                f"{page} p95 {label['big']} vs {label['small']} cases",
                big,
                small,
                "ms",
                target=f"<= {SCALE_TARGET}x the p95 at {label['small']}",
                met=big / small <= SCALE_TARGET,
                extra={"medians": [medians["small"][page], medians["big"][page]]},
            )
        )
    return figures
