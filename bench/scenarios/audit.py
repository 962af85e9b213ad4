"""Audit: `verify_audit` over the whole log (target ≥ 100,000 events/s; baseline: streaming the
same rows' chain columns with no hashing), and the cost of audited personal-data reads under 16
concurrent connections (target ≤ 1.15 x the same server with audit inserts switched off)."""

from __future__ import annotations

import random

from bench.common import (
    Context,
    Figure,
    HttpClient,
    closed_loop,
    create_database,
    gunicorn,
    in_django,
    median_p95,
)

CONNECTIONS = 16
VERIFY_TARGET = 100_000  # events/s
READ_TARGET = 1.15


def run(ctx: Context) -> list[Figure]:
    return _verify(ctx) + _reads(ctx)


def _database(ctx: Context, name: str) -> str:
    return create_database(name, drop=not ctx.keep)


def _verify(ctx: Context) -> list[Figure]:
    events = 100_000 if ctx.quick else 1_000_000
    database = _database(ctx, f"portal_bench_audit_{events}")
    out = in_django(
        "bench.scenarios._audit:verify",
        database=database,
        timeout=3600,
        events=events,
        runs=ctx.runs,
    )
    checked = out["checked"]
    rates = [checked / s for s in out["verify_seconds"]]
    bare = [checked / s for s in out["baseline_seconds"]]
    median, _ = median_p95(rates)
    slowest = min(rates)
    bare_median, _ = median_p95(bare)
    figures = [
        Figure(
            "audit",
            f"verify_audit, {checked:,} events (median)",
            median,
            "events/s",
            baseline=bare_median,
            ratio=median / bare_median,
            target=f">= {VERIFY_TARGET:,} events/s",
            met=median >= VERIFY_TARGET,
            extra={"runs": rates, "baseline_runs": bare},
        ),
        Figure(
            "audit",
            "verify_audit, slowest run",
            slowest,
            "events/s",
            target=f">= {VERIFY_TARGET:,} events/s",
            met=slowest >= VERIFY_TARGET,
        ),
        Figure(
            "audit",
            "verify_audit --independent (Python digests)",
            checked / out["independent_seconds"],
            "events/s",
        ),
    ]
    if out["sealed"]:
        figures.append(
            Figure(
                "audit", "sealer (chain + write)", out["sealed"] / out["seal_seconds"], "events/s"
            )
        )
    return figures


def _reader(base_url: str, token: str, cases: list[str], seed: int):
    client = HttpClient(base_url, token=token)
    rng = random.Random(seed)

    def operation() -> bool:
        status, body = client.request("GET", f"/api/v1/cases/{rng.choice(cases)}/")
        return status == 200 and "answers" in body

    return operation


def _reads(ctx: Context) -> list[Figure]:
    database = _database(ctx, "portal_bench_audit_reads")
    data = in_django(
        "bench.scenarios._audit:reads",
        database=database,
        applications=60 if ctx.quick else 200,
    )
    duration, warmup = (5.0, 1.5) if ctx.quick else (15.0, 3.0)
    samples: dict[str, list] = {"audited": [], "unaudited": []}
    for n in range(ctx.runs):
        order = ["audited", "unaudited"] if n % 2 == 0 else ["unaudited", "audited"]
        for side in order:
            flag = "1" if side == "unaudited" else "0"
            with gunicorn(database, BENCH_UNAUDITED=flag) as url:
                factories = [
                    (lambda i=i: _reader(url, data["token"], data["cases"], i))
                    for i in range(CONNECTIONS)
                ]
                result = closed_loop(factories, duration=duration, warmup=warmup)
            if result.errors:
                raise RuntimeError(f"{result.errors} failed reads ({side})")
            samples[side].append(result)
            print(
                f"  run {n + 1} {side:9} {result.throughput:7.1f} reads/s "
                f"p95 {median_p95(result.latencies)[1] * 1000:6.1f} ms",
                flush=True,
            )
    audited = [x for r in samples["audited"] for x in r.latencies]
    bare = [x for r in samples["unaudited"] for x in r.latencies]
    a_median, a_p95 = median_p95(audited)
    b_median, b_p95 = median_p95(bare)
    a_rate, _ = median_p95([r.throughput for r in samples["audited"]])
    b_rate, _ = median_p95([r.throughput for r in samples["unaudited"]])
    return [
        Figure(
            "audit",
            f"audited case read p95 ({CONNECTIONS} connections)",
            a_p95 * 1000,
            "ms",
            baseline=b_p95 * 1000,
            ratio=a_p95 / b_p95,
            target=f"<= {READ_TARGET} x unaudited",
            met=a_p95 / b_p95 <= READ_TARGET,
        ),
        Figure(
            "audit",
            "audited case read median",
            a_median * 1000,
            "ms",
            baseline=b_median * 1000,
            ratio=a_median / b_median,
            target=f"<= {READ_TARGET} x unaudited",
            met=a_median / b_median <= READ_TARGET,
        ),
        Figure(
            "audit",
            "audited case reads throughput (median run)",
            a_rate,
            "reads/s",
            baseline=b_rate,
            ratio=a_rate / b_rate,
        ),
    ]
