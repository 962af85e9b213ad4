"""Load test (`make load`): 100 concurrent users for 3 minutes with locust, against gunicorn, a
real Celery worker and beat, on PostgreSQL and Redis, all on 127.0.0.1; the bare-stack baseline
measured first in the same run with the same users and think time.

    .venv/bin/python bench/load.py [--users 100] [--minutes 3] [--baseline-minutes 1]

Journeys: bench/locustfile.py. Prints p50/p95 per endpoint and the error count, and writes them
to bench/results/load.json; exits 1 when a request failed (an unexpected status or no answer).
The load average of the machine (shared) is sampled during each phase and reported with them.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PYTHON,
    RESULTS,
    ROOT,
    celery_beat,
    celery_worker,
    children,
    cpu_seconds,
    create_database,
    gunicorn_server,
    in_django,
    redis_delete_prefix,
)

DATABASE = "portal_bench_load"
KEYPREFIX = "bench-load:"
CLERKS_PER_DEPARTMENT = 10
# Users think 1 to 3 s between journeys on a kept-alive connection. gunicorn's threaded workers
# close an idle one after 2 s by default, and a request sent just as it closes is reset (the
# one error of a trial run). Longer than the clients' (or a proxy's) idle time: no such race.
KEEP_ALIVE = 75


class LoadAverage:
    """Samples the 1-minute load average every few seconds while a phase runs."""

    def __init__(self, every: float = 5.0) -> None:
        self.every, self.samples = every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def __enter__(self) -> LoadAverage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        s = self.samples or [float("nan")]
        return {"min": min(s), "mean": sum(s) / len(s), "max": max(s)}


def cpu_of(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each group of processes (and their children)."""
    used = {}
    for name, roots in pids.items():
        total = 0.0
        for pid in roots:
            for p in [pid, *children(pid)]:
                with contextlib.suppress(OSError):
                    total += cpu_seconds(p)
        used[name] = total
    return used


def locust(
    url: str, users: list[str], *, count: int, seconds: int, data: Path, out: Path
) -> tuple[list[dict], float]:
    """Run locust headless for `seconds` with `count` users of the given classes; returns the
    rows of its stats CSV (one per endpoint name, then "Aggregated") and the CPU seconds locust
    used."""
    prefix = out / "stats"
    args = [
        PYTHON, "-m", "locust",
        "-f", str(ROOT / "bench" / "locustfile.py"),
        "--headless", "--only-summary",
        "--host", url,
        "--users", str(count),
        "--spawn-rate", str(max(1, count // 10)),
        "--run-time", f"{seconds}s",
        "--stop-timeout", "10",
        "--csv", str(prefix),
        "--loglevel", "WARNING",
        *users,
    ]  # fmt: skip
    env = {**os.environ, "BENCH_LOAD_DATA": str(data), "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if not Path(f"{prefix}_stats.csv").exists():
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise RuntimeError(f"locust wrote no statistics (exit {done.returncode})")
    failures = Path(f"{prefix}_failures.csv").read_text()
    if failures.count("\n") > 1:
        print(failures, flush=True)
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = [
            {
                "name": row["Name"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or "nan"),
                "p95_ms": float(row["95%"] or "nan"),
                "rps": float(row["Requests/s"]),
            }
            for row in csv.DictReader(f)
        ]
    return rows, locust_cpu


def print_rows(title: str, rows: list[dict], load: dict[str, float]) -> None:
    print(
        f"\n{title} (load average {load['min']:.1f} to {load['max']:.1f}, mean {load['mean']:.1f})"
    )
    head = f"{'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>7}"
    print(f"  {'endpoint':48} {head}")
    for r in rows:
        print(
            f"  {r['name']:48} {r['requests']:>8} {r['failures']:>6} "
            f"{r['p50_ms']:>8.0f} {r['p95_ms']:>8.0f} {r['rps']:>7.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--baseline-minutes", type=float, default=1.0)
    args = parser.parse_args(argv)

    citizens = max(1, round(args.users * 0.6))
    database = create_database(DATABASE)
    data = in_django(
        "bench.scenarios._load:prepare_load",
        database=database,
        citizens=citizens,
        clerks_per_department=CLERKS_PER_DEPARTMENT,
        routed=100,
    )
    results: dict = {"users": args.users, "started": time.strftime("%Y-%m-%d %H:%M %Z")}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        tmp_path = Path(tmp)
        data_file = tmp_path / "data.json"
        data_file.write_text(json.dumps(data))
        try:
            with (
                gunicorn_server(
                    database, keep_alive=KEEP_ALIVE, PORTAL_BROKER_KEYPREFIX=KEYPREFIX
                ) as (url, web),
                celery_worker(database, keyprefix=KEYPREFIX, log=tmp_path / "worker.log") as worker,
                celery_beat(
                    database,
                    keyprefix=KEYPREFIX,
                    schedule=tmp_path / "beat-schedule",
                    log=tmp_path / "beat.log",
                ) as beat,
            ):
                pids = {"web": [web.pid], "worker": [worker.pid], "beat": [beat.pid]}
                assert url.startswith("http://127.0.0.1:")
                phases = [
                    ("baseline", ["BareStack"], args.baseline_minutes),
                    ("portal", ["Citizen", "Clerk", "Supervisor"], args.minutes),
                ]
                for name, classes, minutes in phases:
                    out = tmp_path / name
                    out.mkdir()
                    print(f"== {name}: {args.users} users, {minutes:g} min", flush=True)
                    cpu_before, began = cpu_of(pids), time.monotonic()
                    with LoadAverage() as load:
                        rows, locust_cpu = locust(
                            url,
                            classes,
                            count=args.users,
                            seconds=round(minutes * 60),
                            data=data_file,
                            out=out,
                        )
                    wall = time.monotonic() - began
                    cpu = {k: v - cpu_before[k] for k, v in cpu_of(pids).items()}
                    cores = {
                        k: round(v / wall, 2) for k, v in {**cpu, "locust": locust_cpu}.items()
                    }
                    results[name] = {"rows": rows, "load_average": load.summary(), "cores": cores}
                    print_rows(name, rows, load.summary())
                    print(f"  cores used (of 2): {cores}", flush=True)
                results["routed"] = in_django("bench.scenarios._load:routed", database=database)
                for log in ("worker.log", "beat.log"):
                    text = (tmp_path / log).read_text(errors="replace")
                    results[log] = text.count("ERROR") + text.count("Traceback")
        finally:
            redis_delete_prefix(KEYPREFIX)
    errors = sum(r["failures"] for p in ("baseline", "portal") for r in results[p]["rows"][-1:])
    results["errors"] = errors
    print(f"\nerrors (failed requests): {errors}; routed: {results['routed']}")
    print(f"errors in the worker / beat logs: {results['worker.log']} / {results['beat.log']}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
