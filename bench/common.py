"""Shared pieces of the benchmarks: the run context, figures, statistics, databases and servers.

Every scenario measures the portal and a bare-stack baseline in the same run on the same
machine, and reports the ratio, because absolute times on a shared machine drift.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results"

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


@dataclass(frozen=True)
class Scale:
    """How much data a run seeds (issue 7: 20 departments, 400 staff, 200,000 citizens,
    350,000 applications, 1,000,000 cases at full size)."""

    departments: int
    staff: int
    citizens: int
    applications: int
    cases: int


FULL = Scale(departments=20, staff=400, citizens=200_000, applications=350_000, cases=1_000_000)
SMALL = Scale(departments=20, staff=400, citizens=2_000, applications=3_500, cases=10_000)


@dataclass
class Context:
    quick: bool
    runs: int  # repetitions per measurement; figures are the median and p95 over them
    scale: Scale
    keep: bool = False  # keep seeded databases between runs (reseeding 1M cases takes minutes)
    only: Sequence[str] = ()


@dataclass
class Figure:
    """One line of a scenario's table."""

    scenario: str
    name: str
    value: float
    unit: str
    baseline: float | None = None  # the bare stack's figure in the same run
    ratio: float | None = None  # value / baseline (or as stated in `target`)
    target: str = ""
    met: bool | None = None  # None when there is no target
    extra: dict = field(default_factory=dict)

    def line(self) -> str:
        base = "" if self.baseline is None else f"  baseline {self.baseline:,.2f}"
        ratio = "" if self.ratio is None else f"  ratio {self.ratio:.2f}"
        verdict = {True: "  ok", False: "  NOT MET", None: ""}[self.met]
        target = f"  (target {self.target})" if self.target else ""
        return f"{self.scenario:8} {self.name:44} {self.value:>12,.2f} {self.unit:8}{base}{ratio}{target}{verdict}"


def median_p95(samples: Sequence[float]) -> tuple[float, float]:
    """The median and the 95th percentile (nearest rank) of some samples."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan"), float("nan")
    rank = max(0, min(len(ordered) - 1, int(round(0.95 * len(ordered) + 0.5)) - 1))
    return statistics.median(ordered), ordered[rank]


def report(figures: Sequence[Figure], *, label: str) -> None:
    """Print the figures and write them to bench/results/<label>.json."""
    for figure in figures:
        print(figure.line(), flush=True)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{label}.json"
    path.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")


# --- databases -------------------------------------------------------------------------------


def database_url(name: str) -> str:
    return f"{PG_SERVER}/{name}"


def create_database(name: str, *, drop: bool = True) -> str:
    """A PostgreSQL database for a benchmark (dropped and created again unless `drop` is False),
    migrated with the bench settings. Returns its URL."""
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    manage("migrate", "--noinput", database=url)
    return url


def bench_env(database: str, **extra: str) -> dict[str, str]:
    """The environment of every process a benchmark starts: bench settings, this database,
    the bench Redis database, quiet logs."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.bench",
        DATABASE_URL=database,
        REDIS_URL=REDIS_URL,
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(*args: str, database: str, **extra: str) -> None:
    subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=bench_env(database, **extra),
        check=True,
    )


def setup_django(database: str) -> None:
    """Configure Django in this process for `database` (bench settings)."""
    os.environ.update(bench_env(database))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


@contextlib.contextmanager
def process(args: Sequence[str], *, env: dict[str, str], log: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run a process for the duration of a block; stop it (and its children) afterwards."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log:
            out.close()


@contextlib.contextmanager
def gunicorn(database: str, *, workers: int = 2, threads: int = 8, **extra: str) -> Iterator[str]:
    """The portal served by gunicorn the way the Procfile serves it (bench settings);
    yields its base URL."""
    port = free_port()
    args = [
        PYTHON, "-m", "gunicorn", "config.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread",
    ]  # fmt: skip
    with process(args, env=bench_env(database, **extra)):
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")
