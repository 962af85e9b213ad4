"""Run the benchmarks: `make bench` (quick, small data, a few minutes) or `make bench-full`
(1,000,000 cases). Each scenario prints its figures with the bare-stack baseline and the ratio,
and writes them to bench/results/<scenario>.json.

    .venv/bin/python bench/run.py [--full] [--runs N] [--only submit,inbox] [--keep]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import FULL, SMALL, Context, report

SCENARIOS = ["submit", "routing", "webhooks", "inbox", "audit", "memory", "dashboard", "backup"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="1,000,000 cases (takes long)")
    parser.add_argument("--runs", type=int, default=None, help="repetitions per measurement")
    parser.add_argument("--only", default="", help="comma-separated scenarios")
    parser.add_argument("--keep", action="store_true", help="reuse seeded databases if present")
    args = parser.parse_args(argv)

    only = [s for s in args.only.split(",") if s] or SCENARIOS
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    ctx = Context(
        quick=not args.full,
        runs=args.runs or (3 if not args.full else 5),
        scale=FULL if args.full else SMALL,
        keep=args.keep,
        only=only,
    )
    failed = []
    for name in only:
        print(f"\n== {name} ({'full' if args.full else 'quick'}) ==", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.scenarios.{name}")
            figures = module.run(ctx)
        except Exception:  # a broken benchmark fails the run, after the others have run
            traceback.print_exc()
            failed.append(name)
            continue
        report(figures, label=f"{name}-{'full' if args.full else 'quick'}")
        print(f"({name}: {time.perf_counter() - start:.0f}s)", flush=True)
    if failed:
        print(f"\nbenchmarks that broke: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
