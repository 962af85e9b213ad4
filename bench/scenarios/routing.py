"""Routing: moving-house applications (three departments: household registration, tax,
transport) routed by a real Celery worker (prefork, 2 processes) from Redis; baseline: a no-op
Celery task (`bench.baseline.tasks.noop`) on the same broker, queue and worker.

Throughput: the `routing` queue's consumer is paused (remote control), a batch of applications
is submitted through the actions (each commit sets `routing_requested_at`, the outbox, and sends
the wake-up message), the consumer is resumed, and the clock runs from the moment the worker
takes the first message until every application of the batch is routed (polled in the
database). The no-op batch is timed the same way until the queue is empty and nothing is
unacknowledged. Target: at least 0.3 of the no-op rate.

Latency: one submission at a time, from its commit (an on_commit hook registered before the
action's own) until all three cases are visible to a fresh query; the no-op from its publish
until the task has run (it sets a cache key). Target: p95 under 10 times the no-op p95.

Beat is off (bench settings): the sweeper, which routes applications whose wake-up call was
lost, is not exercised here; every message is delivered.
"""

from __future__ import annotations

import time

from bench.common import (
    REDIS_URL,
    RESULTS,
    Context,
    Figure,
    celery_worker,
    create_database,
    in_django,
    median_p95,
    redis_delete_prefix,
    versus,
)

KEYPREFIX = "bench-routing:"
QUEUE = "routing"
THROUGHPUT_TARGET = 0.3
LATENCY_TARGET = 10.0


def run(ctx: Context) -> list[Figure]:
    batch, noops, samples = (400, 1000, 30) if ctx.quick else (2000, 5000, 100)
    result = with_worker(
        "routing", KEYPREFIX, citizens=4, runs=ctx.runs, batch=batch, noops=noops, samples=samples
    )
    return against_noop(
        "routing",
        result,
        ctx,
        rates="routed_per_s",
        latencies="routing_latency",
        rate_name="applications routed/s",
        latency_name="commit -> 3 cases visible",
        batch=result["batch"],
        cases_per_application=result["cases_per_application"],
    )


def with_worker(
    scenario: str, keyprefix: str, *, citizens: int, env: dict | None = None, **kwargs: object
) -> dict:
    """A new database `portal_bench_<scenario>` with the demo data and `citizens` citizens, a
    real worker (prefork, 2 processes, `env` added to its environment) under `keyprefix`, and
    `bench.scenarios.<scenario>:measure(**kwargs)` run in a child process beside it; prints the
    child's log lines and returns its result."""
    database = create_database(f"portal_bench_{scenario}")
    in_django("bench.scenarios._portal:prepare", database=database, citizens=citizens)
    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / f"{scenario}-worker.log"
    log.unlink(missing_ok=True)
    redis_delete_prefix(keyprefix)
    env = env or {}
    try:
        with celery_worker(database, concurrency=2, keyprefix=keyprefix, log=log, **env):
            result = in_django(
                f"bench.scenarios.{scenario}:measure",
                database=database,
                env={"PORTAL_BROKER_KEYPREFIX": keyprefix, **env},
                timeout=3600,
                **kwargs,
            )
    finally:
        redis_delete_prefix(keyprefix)
    for line in result["log"]:
        print(f"  {line}", flush=True)
    return result


def against_noop(
    scenario: str,
    result: dict,
    ctx: Context,
    *,
    rates: str,
    latencies: str,
    rate_name: str,
    latency_name: str,
    **extra: object,
) -> list[Figure]:
    """The four figures of work done by the worker against the no-op task, from the result's
    lists `rates` (one per run) and `latencies` (samples) and its `noop_per_s` and
    `noop_latency`: the rate (median and p95 of the runs; target THROUGHPUT_TARGET of the
    no-op's) and commit -> done (median and p95; target p95 under LATENCY_TARGET times the
    no-op's round trip). `extra`: more of the first figure's `extra`."""
    rate, rate95 = median_p95(result[rates])
    noop, noop95 = median_p95(result["noop_per_s"])
    lat_med, lat95 = median_p95(result[latencies])
    rt_med, rt95 = median_p95(result["noop_latency"])
    details = {
        "runs": ctx.runs,
        "noop_batch": result["noops"],
        "worker": "celery prefork, concurrency 2, all queues, Redis",
        f"{rates}_runs": [round(x, 2) for x in result[rates]],
        "noop_per_s_runs": [round(x, 2) for x in result["noop_per_s"]],
        "latency_samples": len(result[latencies]),
        **extra,
    }
    return [
        versus(
            scenario,
            f"{rate_name}, median of runs",
            rate,
            noop,
            "/s",
            target=f">= {THROUGHPUT_TARGET} x no-op tasks/s",
            met=rate / noop >= THROUGHPUT_TARGET,
            extra=details,
        ),
        versus(scenario, f"{rate_name}, p95 of runs", rate95, noop95, "/s"),
        versus(scenario, f"{latency_name}, median", lat_med, rt_med, "ms", scale=1000),
        versus(
            scenario,
            f"{latency_name}, p95",
            lat95,
            rt95,
            "ms",
            scale=1000,
            target=f"< {LATENCY_TARGET:g} x no-op round trip p95",
            met=lat95 / rt95 < LATENCY_TARGET,
        ),
    ]


# --- In the child process (Django set up for the routing database) ----------------------------


def measure(*, runs: int, batch: int, noops: int, samples: int) -> dict:
    """All measurements, run in a child process that shares the worker's broker prefix."""
    import redis
    from django.conf import settings

    from accounts.models import User
    from config.celery import app

    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    broker = redis.Redis.from_url(REDIS_URL)
    citizen = User.objects.filter(email__startswith="bench-citizen-").order_by("pk").first()
    _wait_for_worker(app)
    log: list[str] = []
    out: dict = {
        "batch": batch,
        "noops": noops,
        "routed_per_s": [],
        "noop_per_s": [],
        "routing_latency": [],
        "noop_latency": [],
    }
    _route_batch(app, broker, prefix, citizen, 10)  # warm-up: imports, connections, caches
    _noop_batch(app, broker, prefix, 100)
    for n in range(runs):
        # Alternate which side goes first, so drift on a shared machine hits both alike.
        sides = [
            ("routing", lambda: _route_batch(app, broker, prefix, citizen, batch)),
            ("no-op", lambda: _noop_batch(app, broker, prefix, noops)),
        ]
        for name, measure_side in sides if n % 2 == 0 else reversed(sides):
            rate = measure_side()
            out["routed_per_s" if name == "routing" else "noop_per_s"].append(rate)
            log.append(f"run {n + 1} {name:8} throughput {rate:8.1f}/s")
        routing_lat = [_route_one(citizen) for _ in range(samples)]
        noop_lat = [_noop_one(n, i) for i in range(samples)]
        out["routing_latency"] += routing_lat
        out["noop_latency"] += noop_lat
        log.append(
            f"run {n + 1} latency p95 routing {median_p95(routing_lat)[1] * 1000:.1f} ms, "
            f"no-op {median_p95(noop_lat)[1] * 1000:.1f} ms"
        )
    out["cases_per_application"] = _cases_per_application()
    out["log"] = log
    return out


def _wait_for_worker(app, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0, limit=1):
            return
    raise RuntimeError("the Celery worker did not answer a ping")


def _consume(app, on: bool, queue: str = QUEUE) -> None:
    """Pause or resume the worker's consumption of a queue (and wait for its word)."""
    # limit=1: return on the (only) worker's reply; without it the call waits the full timeout.
    if on:
        replies = app.control.add_consumer(queue, reply=True, timeout=5, limit=1)
    else:
        replies = app.control.cancel_consumer(queue, reply=True, timeout=5, limit=1)
    if not replies:
        raise RuntimeError("the worker did not confirm the consumer change")


def _drained(broker, prefix: str, queues: tuple[str, ...]) -> bool:
    """No message waits in `queues` and none is delivered but unacknowledged (acks_late: a task
    is acknowledged when it has run). Checked twice, as a message is briefly in neither."""
    for _ in range(2):
        if any(broker.llen(f"{prefix}{q}") for q in queues) or broker.hlen(f"{prefix}unacked"):
            return False
        time.sleep(0.002)
    return True


def _taken(broker, prefix: str, size: int, queue: str = QUEUE) -> float:
    """The time the worker takes the first of the `size` queued messages: the clock starts
    there, on both sides. (A resumed consumer starts fetching only when the worker's current
    blocking read of its other queues returns, up to a second later: that wait is the broker
    transport's, not the work's, and it used to be counted in both rates.)"""
    return _wait(lambda: broker.llen(f"{prefix}{queue}") < size, interval=0.0005)


def _wait(condition, *, interval: float, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for the worker")
        time.sleep(interval)
    return time.perf_counter()


def _route_batch(app, broker, prefix: str, citizen, size: int) -> float:
    from bench.scenarios._portal import submit_in_process
    from services.models import Application

    _consume(app, False)
    ids = [submit_in_process(citizen).pk for _ in range(size)]
    # The confirmation e-mails of the submissions go first, so the clock sees routing.
    _wait(lambda: _drained(broker, prefix, ("notifications",)), interval=0.01)
    pending = Application.objects.filter(pk__in=ids, routed_at__isnull=True)
    _consume(app, True)
    start = _taken(broker, prefix, size)
    _wait(lambda: not pending.exists(), interval=0.01)
    # The clock stops when the work is done: every wake-up call taken (most find their
    # application routed by a batch) and the batches' notifications sent, as the no-op side
    # counts every message.
    end = _wait(lambda: _drained(broker, prefix, (QUEUE, "notifications")), interval=0.005)
    return size / (end - start)


def _noop_batch(app, broker, prefix: str, size: int, queue: str = QUEUE) -> float:
    from bench.baseline.tasks import noop

    _consume(app, False, queue)
    with app.producer_or_acquire() as producer:
        for _ in range(size):
            noop.apply_async(queue=queue, producer=producer)
    _consume(app, True, queue)
    start = _taken(broker, prefix, size, queue)
    end = _wait(lambda: _drained(broker, prefix, (queue,)), interval=0.005)
    return size / (end - start)


def _route_one(citizen) -> float:
    from django.db import transaction

    from bench.scenarios._portal import submit_in_process
    from workflows.models import Case

    committed: list[float] = []
    with transaction.atomic():
        # Registered before the action's own hooks, so it runs first: the time of the commit,
        # before the wake-up message is sent.
        transaction.on_commit(lambda: committed.append(time.perf_counter()))
        application = submit_in_process(citizen)
    cases = Case.objects.filter(application_id=application.pk)
    end = _wait(lambda: cases.count() >= 3, interval=0.001, timeout=60)
    return end - committed[0]


def _noop_one(run: int, n: int, queue: str = QUEUE) -> float:
    from django.core.cache import cache

    from bench.baseline.tasks import noop

    key = f"bench-routing-noop:{run}:{n}:{time.time_ns()}"
    start = time.perf_counter()
    noop.apply_async(args=(key,), queue=queue)
    end = _wait(lambda: cache.get(key) is not None, interval=0.001, timeout=60)
    return end - start


def _cases_per_application() -> dict[str, int]:
    from django.db.models import Count

    from services.models import Application

    counts = Application.objects.exclude(status="draft").annotate(n=Count("cases"))
    histogram: dict[str, int] = {}
    for n in counts.values_list("n", flat=True):
        histogram[str(n)] = histogram.get(str(n), 0) + 1
    return histogram
