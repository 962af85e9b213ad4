"""Scenario 3, the inbox: a clerk's inbox page and a lead's department queue (50 rows each)
through the real API served by gunicorn, against the same page query without the permission
scoping (`bench.baseline.views.CasePage`) in the same server, on a small database (10,000 cases)
and a big one (1,000,000 cases; 50,000 in the quick run).

Targets: p95 at most 1.5 times the baseline's p95; queries per request the same for
page sizes 10, 50 and 100; p95 on the big database at most 1.5 times that on the small one.

Requests are sequential on one keep-alive connection, the four pages interleaved, so drift on
the shared machine hits the portal and the baseline alike.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from urllib.parse import urlencode, urlsplit

from bench.common import (
    FULL,
    SMALL,
    Context,
    Figure,
    create_database,
    database_url,
    gunicorn,
    in_django,
    median_p95,
    versus,
)

SCENARIO = "inbox"
ACTIVE = "open,in_progress,awaiting_citizen"  # the "To do" tab
PAGE = 50
RATIO_TARGET = 1.5


def seeded_database(name: str, cases: int, ctx: Context) -> str:
    """A seeded database of `cases` cases: reused with --keep when completely seeded at that
    scale (migrated again, so new indexes apply), else created and seeded."""
    from bench.seed import scale_for, seeded_scale

    scale = scale_for(cases)
    url = database_url(name)
    if ctx.keep and seeded_scale(url) == scale:
        print(f"reusing {name} ({cases:,} cases)", flush=True)
        create_database(name, drop=False)
        return url
    create_database(name)
    started = time.perf_counter()
    seed_in_child(url, cases)
    print(f"seeded {name}: {time.perf_counter() - started:.0f}s", flush=True)
    return url


def seed_in_child(url: str, cases: int) -> None:
    """The seeder sets Django up for its database, so it runs in a child process."""
    import subprocess

    from bench.common import PYTHON, ROOT, bench_env

    code = (
        "import sys; from bench.seed import scale_for, seed; "
        "seed(sys.argv[1], scale_for(int(sys.argv[2])))"
    )
    subprocess.run([PYTHON, "-c", code, url, str(cases)], cwd=ROOT, env=bench_env(url), check=True)


# --- in the child process (Django set up for one database) ------------------------------------


def prepare() -> dict:
    """Choose the busiest department, a clerk and a lead of it, issue their API tokens, and count
    the queries of each page at page sizes 10, 50 and 100 (test client, in process)."""
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts import actions
    from accounts.models import Membership
    from workflows.models import Case

    busiest = (
        Case.objects.filter(status="open", assignee__isnull=True)
        .values("department_id", "department__slug")
        .annotate(n=Count("id"))
        .order_by("-n", "department_id")
        .first()
    )
    department = busiest["department_id"]
    members = Membership.objects.filter(department_id=department).select_related("user")
    clerk = members.filter(role="clerk").order_by("user__email").first().user
    lead = members.filter(role="lead").order_by("user__email").first().user
    tokens = {
        "clerk": actions.token_issue(actor=None, user=clerk).key,
        "lead": actions.token_issue(actor=None, user=lead).key,
    }
    pages = _pages(busiest["department__slug"])
    queries: dict[str, dict[int, int]] = {}
    rows: dict[str, int] = {}
    for name, (who, path, params) in pages.items():
        if not path.startswith("/api/"):
            continue
        client = Client(HTTP_AUTHORIZATION=f"Token {tokens[who]}", HTTP_HOST="127.0.0.1")
        # Warm: content types, permission ids, and the catalog's versions of the largest page
        # (read once per process; `services.catalog`).
        client.get(path, {**params, "page_size": 100})
        queries[name] = {}
        for size in (10, 50, 100):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, {**params, "page_size": size})
            assert response.status_code == 200, response.content[:300]
            queries[name][size] = len(captured)
            if size == PAGE:
                rows[name] = len(response.json()["results"])
    scope = Q(department_id=department)
    return {
        "department": busiest["department__slug"],
        "tokens": tokens,
        "queries": queries,
        "rows": rows,
        "cases": Case.objects.count(),
        "department_cases": Case.objects.filter(scope).count(),
        "department_active": Case.objects.filter(scope, status__in=ACTIVE.split(",")).count(),
    }


def _pages(department: str) -> dict[str, tuple[str, str, dict[str, str]]]:
    """name -> (who, path, query) of the four pages measured."""
    queue = {"department": department, "assignee": "none", "status": "open"}
    return {
        "clerk inbox": ("clerk", "/api/v1/cases/", {"status": ACTIVE}),
        "lead queue": ("lead", "/api/v1/cases/", queue),
        "clerk inbox baseline": ("clerk", "/bench/cases/", {"status": ACTIVE}),
        "lead queue baseline": ("lead", "/bench/cases/", queue),
    }


# --- in the runner -----------------------------------------------------------------------------


def _measure(url: str, info: dict, *, runs: int, requests: int) -> dict[str, list[list[float]]]:
    """Latency samples (ms) per page and run; each run interleaves the four pages."""
    pages = _pages(info["department"])
    samples: dict[str, list[list[float]]] = {name: [] for name in pages}
    with gunicorn(url) as base:
        target = urlsplit(base)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)

        def get(who: str, path: str, params: dict[str, str]) -> float:
            query = urlencode({**params, "page_size": PAGE})
            headers = {"Authorization": f"Token {info['tokens'][who]}"}
            started = time.perf_counter()
            conn.request("GET", f"{path}?{query}", headers=headers)
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}: {body[:300]!r}")
            json.loads(body)  # a complete JSON answer, as a client would need
            return elapsed

        for _ in range(20):  # warm-up: connections, caches, plans
            for who, path, params in pages.values():
                get(who, path, params)
        for _run in range(runs):
            current = {name: [] for name in pages}
            for _ in range(requests):
                for name, (who, path, params) in pages.items():
                    current[name].append(get(who, path, params))
            for name in pages:
                samples[name].append(current[name])
        conn.close()
    return samples


def _stats(runs: list[list[float]]) -> dict:
    pooled = [s for run in runs for s in run]
    median, p95 = median_p95(pooled)
    per_run = [median_p95(run) for run in runs]
    return {
        "median": median,
        "p95": p95,
        "run_medians": [round(m, 2) for m, _ in per_run],
        "run_p95s": [round(p, 2) for _, p in per_run],
        "samples": len(pooled),
    }


def _p95_within_target(name: str, ours: dict, base: dict, *, target: str, extra: dict) -> Figure:
    """The p95 of `ours` beside that of `base` (`_stats` of each); met at most RATIO_TARGET x."""
    return versus(
        SCENARIO,
        name,
        ours["p95"],
        base["p95"],
        "ms",
        target=target,
        met=ours["p95"] / base["p95"] <= RATIO_TARGET,
        extra=extra,
    )


def run(ctx: Context) -> list[Figure]:
    small_cases = SMALL.cases
    big_cases = FULL.cases if not ctx.quick else 50_000
    requests = int(os.environ.get("BENCH_INBOX_REQUESTS", 100 if ctx.quick else 300))
    databases = {
        "small": seeded_database("portal_bench_inbox_small", small_cases, ctx),
        "big": seeded_database(
            "portal_bench_inbox_full" if not ctx.quick else "portal_bench_inbox_quick",
            big_cases,
            ctx,
        ),
    }
    label = {"small": f"{small_cases // 1000}k", "big": f"{big_cases // 1000}k"}
    figures: list[Figure] = []
    stats: dict[str, dict[str, dict]] = {}
    infos: dict[str, dict] = {}
    for size, url in databases.items():
        info = in_django("bench.scenarios.inbox:prepare", database=url)
        infos[size] = info
        samples = _measure(url, info, runs=ctx.runs, requests=requests)
        stats[size] = {name: _stats(runs) for name, runs in samples.items()}
        context = {
            "cases": info["cases"],
            "department": info["department"],
            "department_cases": info["department_cases"],
            "department_active": info["department_active"],
            "rows": info["rows"],
        }
        for page in ("clerk inbox", "lead queue"):
            ours, base = stats[size][page], stats[size][f"{page} baseline"]
            figures.append(
                _p95_within_target(
                    f"{page} p95 at {label[size]} cases",
                    ours,
                    base,
                    target=f"p95 <= {RATIO_TARGET}x baseline p95",
                    extra={"portal": ours, "baseline": base, **context},
                )
            )
    for page in ("clerk inbox", "lead queue"):
        small, big = stats["small"][page], stats["big"][page]
        figures.append(
            _p95_within_target(
                f"{page} p95 {label['big']} vs {label['small']} cases",
                big,
                small,
                target=f"<= {RATIO_TARGET}x the p95 at {label['small']}",
                extra={"medians": [small["median"], big["median"]]},
            )
        )
    for size in databases:
        for page, counts in infos[size]["queries"].items():
            values = [counts[str(s)] for s in (10, 50, 100)]
            figures.append(
                Figure(
                    scenario=SCENARIO,
                    name=f"{page} queries at page size 100 ({label[size]})",
                    value=values[2],
                    unit="queries",
                    baseline=values[0],
                    ratio=values[2] / values[0],
                    target="same at page sizes 10, 50, 100",
                    met=len(set(values)) == 1,
                    extra={"page_sizes": dict(zip((10, 50, 100), values, strict=True))},
                )
            )
    for figure in figures:
        if "portal" in figure.extra:
            p, b = figure.extra["portal"], figure.extra["baseline"]
            print(
                f"  {figure.name}: median {p['median']:.2f} ms (baseline {b['median']:.2f}), "
                f"p95 {p['p95']:.2f} ms (baseline {b['p95']:.2f}); rows {figure.extra['rows']}",
                flush=True,
            )
    return figures
