"""Backup and restore: `manage.py backup` (pg_dump -Fc in one snapshot, the manifest's counts,
encryption) and `manage.py restore` (the whole archive verified, then pg_restore in one
transaction) against plain `pg_dump -Fc` and `pg_restore` of the same database in the same run
(target: within 1.5x each). Quick: 10,000 cases and 100,000 audit events; full: 1,000,000 of
each."""

from __future__ import annotations

import time

from bench.common import Context, Figure, in_django, median_p95, versus
from bench.scenarios.inbox import seeded_database as _database

TARGET = 1.5


def run(ctx: Context) -> list[Figure]:
    cases = 10_000 if ctx.quick else 1_000_000
    events = 100_000 if ctx.quick else 1_000_000
    started = time.perf_counter()
    url = _database(f"portal_bench_backup_{cases}", cases, ctx)
    print(f"database ready: {time.perf_counter() - started:.0f}s", flush=True)
    out = in_django(
        "bench.scenarios._backup:measure", database=url, timeout=6 * 3600, runs=ctx.runs,
        events=events,
    )  # fmt: skip
    times = out["times"]
    figures = []
    for mine, plain, label in (
        ("backup", "pg_dump", "manage.py backup vs pg_dump -Fc"),
        ("restore", "pg_restore", "manage.py restore vs pg_restore"),
    ):
        value, _ = median_p95(times[mine])
        base, _ = median_p95(times[plain])
        figures.append(
            versus(
                "backup",
                f"{label} (median)",
                value,
                base,
                "s",
                target=f"<= {TARGET} x {plain}",
                met=value / base <= TARGET,
                extra={"runs": times[mine], "baseline_runs": times[plain]},
            )
        )
    figures.append(
        versus(
            "backup",
            f"archive size ({out['cases']:,} cases, {out['events']:,} events)",
            out["sizes"]["archive"] / 1e6,
            out["sizes"]["pg_dump"] / 1e6,
            "MB",
            extra={"database_bytes": out["database_bytes"]},
        )
    )
    return figures
