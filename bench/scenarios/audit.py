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
    versus,
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
        versus(
            "audit",
            f"verify_audit, {checked:,} events (median)",
            median,
            bare_median,
            "events/s",
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
    # Both servers run side by side and take turns in short slices (ABBA order), so a change in
    # the machine's background load falls on both sides alike. Separate 5 s runs, one server
    # after the other, put the ratio anywhere between 0.95 and 1.30 on a shared machine: each
    # side saw a different stretch of other processes' load, and a cold server's first seconds.
    slices, seconds = (4 * ctx.runs, 1.5) if ctx.quick else (8 * ctx.runs, 3.0)
    samples: dict[str, list] = {"audited": [], "unaudited": []}
    with (
        gunicorn(database, BENCH_UNAUDITED="0") as audited_url,
        gunicorn(database, BENCH_UNAUDITED="1") as unaudited_url,
    ):
        urls = {"audited": audited_url, "unaudited": unaudited_url}

        def load(side: str, duration: float, warmup: float = 0.0):
            factories = [
                (lambda i=i: _reader(urls[side], data["token"], data["cases"], i))
                for i in range(CONNECTIONS)
            ]
            return closed_loop(factories, duration=duration, warmup=warmup)

        for side in urls:  # warm both: connections, caches, the interpreter's first requests
            load(side, duration=1.0, warmup=1.0)
        for n in range(slices):
            order = ["audited", "unaudited"] if n % 2 == 0 else ["unaudited", "audited"]
            for side in order:
                result = load(side, duration=seconds)
                if result.errors:
                    raise RuntimeError(f"{result.errors} failed reads ({side})")
                samples[side].append(result)
            print(
                f"  slice {n + 1:2} audited {samples['audited'][-1].throughput:7.1f} /s, "
                f"unaudited {samples['unaudited'][-1].throughput:7.1f} /s",
                flush=True,
            )
    audited = [x for r in samples["audited"] for x in r.latencies]
    bare = [x for r in samples["unaudited"] for x in r.latencies]
    a_median, a_p95 = median_p95(audited)
    b_median, b_p95 = median_p95(bare)
    a_rate, _ = median_p95([r.throughput for r in samples["audited"]])
    b_rate, _ = median_p95([r.throughput for r in samples["unaudited"]])
    return [
        versus(
            "audit",
            name,
            audited_s,
            bare_s,
            "ms",
            scale=1000,
            target=f"<= {READ_TARGET} x unaudited",
            met=audited_s / bare_s <= READ_TARGET,
        )
        for name, audited_s, bare_s in (
            (f"audited case read p95 ({CONNECTIONS} connections)", a_p95, b_p95),
            ("audited case read median", a_median, b_median),
        )
    ] + [versus("audit", "audited case reads throughput (median run)", a_rate, b_rate, "reads/s")]
