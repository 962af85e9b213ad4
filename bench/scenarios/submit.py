"""Submit: a citizen creates and submits a moving-house application through the API (validation,
encryption, persistence, audit, outbox, wake-up message to Redis) under 16 concurrent keep-alive
connections to gunicorn; baseline: a bare DRF create endpoint on a trivial model (`POST
/bench/notes/`) with the same token authentication, served by the same gunicorn setup.

Target: the portal's submissions per second at least 0.5 of the baseline's creates per
second. A submission is two requests (create the draft, then submit it), the baseline one; the
per-request ratio is reported too.

The load generator (threads, one http.client connection each) runs on the same two cores as
gunicorn and PostgreSQL; its CPU share is reported with the figures.
"""

from __future__ import annotations

import os
import time
from functools import partial

from bench.common import (
    Context,
    Figure,
    HttpClient,
    closed_loop,
    create_database,
    gunicorn,
    in_django,
    median_p95,
    redis_delete_prefix,
    versus,
)
from bench.scenarios._portal import CREATE_BODY

CONNECTIONS = 16
TARGET = 0.5
KEYPREFIX = "bench-submit:"  # the wake-up messages no worker consumes here; deleted afterwards


def _submission(base_url: str, token: str):
    client = HttpClient(base_url, token=token)

    def operation() -> bool:
        status, body = client.request("POST", "/api/v1/applications/", CREATE_BODY)
        if status != 201:
            return False
        status, body = client.request("POST", f"/api/v1/applications/{body['reference']}/submit/")
        return status == 200 and body.get("status") == "submitted"

    return operation


def _note(base_url: str, token: str):
    client = HttpClient(base_url, token=token)

    def operation() -> bool:
        status, _body = client.request("POST", "/bench/notes/", {"text": "a note"})
        return status == 201

    return operation


def _measure(make, base_url: str, tokens: list[str], *, duration: float, warmup: float) -> dict:
    factories = [partial(make, base_url, tokens[i % len(tokens)]) for i in range(CONNECTIONS)]
    cpu_before, wall_before = os.times(), time.perf_counter()
    result = closed_loop(factories, duration=duration, warmup=warmup)
    cpu_after, wall = os.times(), time.perf_counter() - wall_before
    generator_cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    if result.errors > 0.01 * max(1, result.operations):
        raise RuntimeError(f"{result.errors} failed operations against {result.operations}")
    return {
        "throughput": result.throughput,
        "latencies": result.latencies,
        "errors": result.errors,
        "generator_cores": generator_cpu / wall,  # 2.0 would be both cores
    }


def run(ctx: Context) -> list[Figure]:
    database = create_database("portal_bench_submit")
    tokens = in_django("bench.scenarios._portal:prepare", database=database, citizens=32)[
        "citizens"
    ]
    duration, warmup = (6.0, 2.0) if ctx.quick else (20.0, 5.0)
    portal_runs, baseline_runs = [], []
    try:
        with gunicorn(database, PORTAL_BROKER_KEYPREFIX=KEYPREFIX) as url:
            for n in range(ctx.runs):
                # Alternate the order so drift on a shared machine hits both sides alike.
                order = [("baseline", _note), ("portal", _submission)]
                for side, make in order if n % 2 == 0 else reversed(order):
                    figures = _measure(make, url, tokens, duration=duration, warmup=warmup)
                    (portal_runs if side == "portal" else baseline_runs).append(figures)
                    print(
                        f"  run {n + 1} {side:8} {figures['throughput']:8.1f}/s  "
                        f"generator {figures['generator_cores']:.2f} cores",
                        flush=True,
                    )
    finally:
        redis_delete_prefix(KEYPREFIX)
    return _figures(portal_runs, baseline_runs, ctx)


def _figures(portal_runs: list[dict], baseline_runs: list[dict], ctx: Context) -> list[Figure]:
    portal_tp, portal_tp95 = median_p95([r["throughput"] for r in portal_runs])
    base_tp, base_tp95 = median_p95([r["throughput"] for r in baseline_runs])
    # The p95 of the latency of each run, and its median over runs; all samples pooled too.
    portal_lat = median_p95([median_p95(r["latencies"])[1] for r in portal_runs])
    base_lat = median_p95([median_p95(r["latencies"])[1] for r in baseline_runs])
    portal_med = median_p95([median_p95(r["latencies"])[0] for r in portal_runs])
    base_med = median_p95([median_p95(r["latencies"])[0] for r in baseline_runs])
    ratio = portal_tp / base_tp
    extra = {
        "runs": ctx.runs,
        "connections": CONNECTIONS,
        "server": "gunicorn gthread, 2 workers x 8 threads",
        "portal_throughput_runs": [round(r["throughput"], 2) for r in portal_runs],
        "baseline_throughput_runs": [round(r["throughput"], 2) for r in baseline_runs],
        "generator_cores": [round(r["generator_cores"], 2) for r in portal_runs + baseline_runs],
        "errors": sum(r["errors"] for r in portal_runs + baseline_runs),
    }
    return [
        versus(
            "submit",
            "submissions/s (create+submit), median of runs",
            portal_tp,
            base_tp,
            "/s",
            target=f">= {TARGET} x baseline creates/s",
            met=ratio >= TARGET,
            extra=extra,
        ),
        versus("submit", "submissions/s, p95 of runs", portal_tp95, base_tp95, "/s"),
        versus(
            "submit", "requests/s (2 per submission), median of runs", 2 * portal_tp, base_tp, "/s"
        ),
    ] + [
        versus("submit", f"submission latency {name}", portal[n], base[n], "ms", scale=1000)
        for name, portal, base, n in (
            ("median (median of runs)", portal_med, base_med, 0),
            ("p95 (median of runs)", portal_lat, base_lat, 0),
            ("p95 (p95 of runs)", portal_lat, base_lat, 1),
        )
    ]
