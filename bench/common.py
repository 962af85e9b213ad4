"""Shared pieces of the benchmarks: the run context, figures, statistics, databases and servers.

Every scenario measures the portal and a bare-stack baseline in the same run on the same
machine, and reports the ratio, because absolute times on a shared machine drift.

Over 400 lines: every scenario leans on the same context, figure, server and database helpers,
and keeping them in one module keeps the scenarios short and measuring alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
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
    """How much data a run seeds (full scale: 20 departments, 400 staff, 200,000 citizens,
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
        value = f"{self.value:>12,.2f} {self.unit:8}"
        return f"{self.scenario:8} {self.name:44} {value}{base}{ratio}{target}{verdict}"


def versus(
    scenario: str,
    name: str,
    value: float,
    baseline: float,
    unit: str,
    *,
    scale: float = 1.0,
    **more,
) -> Figure:
    """A figure beside its baseline, with their ratio; `scale` converts both for display (1000:
    seconds to ms) and leaves the ratio alone. `more`: the Figure's target, met and extra."""
    return Figure(
        scenario,
        name,
        value * scale,
        unit,
        baseline=baseline * scale,
        ratio=value / baseline,
        **more,
    )


def median_p95(samples: Sequence[float]) -> tuple[float, float]:
    """The median and the 95th percentile (nearest rank) of some samples."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan"), float("nan")
    rank = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
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
            # A new database starts a new audit chain: its old exported checkpoints would say
            # it was rolled back (config/settings/bench.py keeps them per database).
            shutil.rmtree(ROOT / "var" / "bench" / "checkpoints" / name, ignore_errors=True)
    url = database_url(name)
    manage("migrate", "--noinput", "--verbosity", "0", database=url)
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


def stop_group(proc: subprocess.Popen, *, timeout: float) -> None:
    """Stop a process that leads its own process group, and everything it started: SIGTERM to
    the group, SIGKILL after `timeout` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


@contextlib.contextmanager
def process(
    args: Sequence[str], *, env: dict[str, str], log: Path | None = None
) -> Iterator[subprocess.Popen]:
    """Run a process for the duration of a block; stop it (and its children) afterwards."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield proc
    finally:
        stop_group(proc, timeout=20)
        if log:
            out.close()


@contextlib.contextmanager
def gunicorn(database: str, **options) -> Iterator[str]:
    """The portal served by gunicorn the way the Procfile serves it (bench settings);
    yields its base URL. `options`: those of `gunicorn_server` (workers, threads, keep_alive:
    seconds an idle connection stays open, gunicorn's default is 2; extra environment)."""
    with gunicorn_server(database, **options) as (url, _master):
        yield url


@contextlib.contextmanager
def gunicorn_server(
    database: str,
    *,
    workers: int = 2,
    threads: int = 8,
    keep_alive: int | None = None,
    **extra: str,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Like `gunicorn`, but yields (base URL, master process) so callers can find the workers
    (`children`) and measure them."""
    port = free_port()
    args = [
        PYTHON, "-m", "gunicorn", "config.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread",
    ]  # fmt: skip
    if keep_alive is not None:
        args += ["--keep-alive", str(keep_alive)]
    with process(args, env=bench_env(database, **extra)) as master:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", master


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    """The direct child processes of `pid` (e.g. a gunicorn master's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # The command name (field 2) may hold spaces: the parent pid follows its ")".
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- Django in a child process ---------------------------------------------------------------


def in_django(
    target: str,
    *,
    database: str,
    timeout: float = 600,
    env: dict[str, str] | None = None,
    **kwargs: object,
) -> object:
    """Call `module:function(**kwargs)` in a fresh Python process set up for `database` (bench
    settings, plus `env`) and return its JSON result.

    The runner runs several scenarios, each on its own database; Django can be set up only once
    per process, so work that needs the ORM runs in a child instead of in the runner.
    """
    code = "import sys; from bench.common import _in_django_main; _in_django_main(sys.argv[1])"
    done = subprocess.run(
        [PYTHON, "-c", code, target],
        cwd=ROOT,
        env=bench_env(database, **(env or {})),
        input=json.dumps(kwargs),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-8000:])
        raise RuntimeError(f"{target} failed in its child process (exit {done.returncode})")
    if done.stderr.strip():
        sys.stderr.write(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _in_django_main(target: str) -> None:
    import importlib

    setup_django(os.environ["DATABASE_URL"])
    module, function = target.split(":")
    kwargs = json.loads(sys.stdin.read() or "{}")
    result = getattr(importlib.import_module(module), function)(**kwargs)
    sys.stdout.write("\n" + json.dumps(result) + "\n")


# --- Celery ----------------------------------------------------------------------------------


@contextlib.contextmanager
def celery_worker(
    database: str,
    *,
    concurrency: int = 2,
    keyprefix: str,
    log: Path | None = None,
    **extra: str,
) -> Iterator[subprocess.Popen]:
    """A real Celery worker (prefork, `concurrency` processes, every queue of the settings) on
    the bench Redis database, with its keys under `keyprefix` so runs never see each other's
    messages (`extra`: more environment). Waits until it answers a ping."""
    args = [
        PYTHON, "-m", "celery", "-A", "config", "worker",
        "--concurrency", str(concurrency),
        "--loglevel", "WARNING",
        "--without-gossip", "--without-mingle",
        "--hostname", f"bench-{os.getpid()}@%h",
    ]  # fmt: skip
    env = bench_env(database, PORTAL_BROKER_KEYPREFIX=keyprefix, **extra)
    with process(args, env=env, log=log) as worker:
        yield worker


@contextlib.contextmanager
def celery_beat(
    database: str, *, keyprefix: str, schedule: Path, log: Path | None = None, **extra: str
) -> Iterator[subprocess.Popen]:
    """Celery beat with the settings' schedule (`BENCH_BEAT=1` keeps it in the bench settings),
    sending to the bench Redis database under `keyprefix`; its state file at `schedule`."""
    args = [
        PYTHON, "-m", "celery", "-A", "config", "beat",
        "--loglevel", "WARNING",
        "--schedule", str(schedule),
    ]  # fmt: skip
    env = bench_env(database, PORTAL_BROKER_KEYPREFIX=keyprefix, BENCH_BEAT="1", **extra)
    with process(args, env=env, log=log) as beat:
        yield beat


def redis_delete_prefix(prefix: str) -> int:
    """Delete every key of the bench Redis database under `prefix` (leftover messages)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    return len(keys)


# --- HTTP load -------------------------------------------------------------------------------


class HttpClient:
    """One keep-alive HTTP/1.1 connection (http.client: cheap enough to share the two cores
    with the server), reconnecting when the server closes it."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 30) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Token {token}"
        self.conn = None

    def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        """Send one request; returns (status, decoded JSON or text)."""
        import http.client

        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if response.will_close:
            self.conn.close()
            self.conn = None
        content_type = response.getheader("Content-Type", "")
        return response.status, json.loads(raw) if "json" in content_type else raw.decode()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class LoadResult:
    operations: int
    seconds: float
    latencies: list[float]  # seconds, one per operation
    errors: int

    @property
    def throughput(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


def closed_loop(
    operation_factories: Sequence, *, duration: float, warmup: float = 0.0
) -> LoadResult:
    """Run one thread per factory for `warmup` + `duration` seconds; each thread calls its
    operation (made by factory(); returns True on success) back to back, as a client with one
    connection would. Only operations that start after the warm-up are counted."""
    import threading

    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0
    start_at = time.perf_counter() + warmup
    stop_at = start_at + duration
    ops = [factory() for factory in operation_factories]

    def loop(operation) -> None:
        nonlocal errors
        mine: list[float] = []
        failed = 0
        while True:
            began = time.perf_counter()
            if began >= stop_at:
                break
            ok = operation()
            ended = time.perf_counter()
            if began >= start_at and ended <= stop_at:
                if ok:
                    mine.append(ended - began)
                else:
                    failed += 1
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=loop, args=(op,), daemon=True) for op in ops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(
        operations=len(latencies), seconds=duration, latencies=latencies, errors=errors
    )
