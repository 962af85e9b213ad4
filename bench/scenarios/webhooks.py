"""Webhooks: signed deliveries (Standard Webhooks) to a department's system, sent by a real
Celery worker (prefork, 2 processes) from Redis to a receiver on 127.0.0.1 that verifies each
one with the `standardwebhooks` library (tests/integrations/receiver.py); baseline: a no-op
Celery task (`bench.baseline.tasks.noop`) on the same broker, queue (`notifications`, where the
dispatcher runs) and worker, in the same run.

Throughput: the tax office's subscription to every event is paused while a batch of cases
changes (each moving-house application routed in this process opens a tax case, then a clerk
claims it: two deliveries a case, the second due only once the first is delivered), so the
outbox fills and the commits' wake-up calls find nothing to send (the e-mails of those changes
are sent meanwhile and not counted). Then the `notifications` consumer is paused, the
subscription resumed (which queues a wake-up call), and every other change's commit asks for
one as the commits do (`integrations.emission._wake`: none is queued while one waits); the
consumer is resumed and the clock runs from the moment the worker takes the first message
until the receiver has verified every delivery (the deliveries' throughput), and on to the
moment every queued wake-up call was taken (a second figure). The no-op batch is timed the
same way until its queue is empty and nothing is unacknowledged. Target: at least 0.3 of the
no-op rate.

Latency: one change at a time (a clerk claims an open tax case whose `case.opened` was
delivered), from its commit (an on_commit hook registered before the action's own, so before
the wake-up call is sent) until the receiver has verified its `case.changed`; the no-op from
its publish until the task has run (it sets a cache key). Target: p95 under 10 times the
no-op round trip's p95.

Beat is off (bench settings): every delivery here is sent because of a wake-up call.
"""

from __future__ import annotations

import os
import time

from bench.common import (
    REDIS_URL,
    Context,
    Figure,
    median_p95,
)

KEYPREFIX = "bench-webhooks:"
QUEUE = "notifications"
# The worker and this scenario's child process may send to a receiver on this machine.
WEBHOOK_ENV = {
    "WEBHOOK_ALLOW_HTTP": "1",
    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
}


def run(ctx: Context) -> list[Figure]:
    from bench.common import versus
    from bench.scenarios.routing import THROUGHPUT_TARGET, against_noop, with_worker

    cases, noops, samples = (200, 1000, 30) if ctx.quick else (1000, 5000, 100)
    load_before = os.getloadavg()
    result = with_worker(
        "webhooks",
        KEYPREFIX,
        citizens=1,
        env=WEBHOOK_ENV,
        runs=ctx.runs,
        cases=cases,
        noops=noops,
        samples=samples,
    )
    load = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    print(f"  load average before (1/5/15 min) {load[:3]}, after {load[3:]}", flush=True)
    drained, noop = median_p95(result["drained_per_s"])[0], median_p95(result["noop_per_s"])[0]
    return [
        *against_noop(
            "webhooks",
            result,
            ctx,
            rates="delivered_per_s",
            latencies="delivery_latency",
            rate_name="signed deliveries/s",
            latency_name="commit -> delivered",
            deliveries_per_batch=result["deliveries"],
            receiver_kind="http.server on 127.0.0.1, standardwebhooks verification, de-dup",
            receiver=result["receiver"],
            delivered_and_drained_seconds=result["phases"],
            load_average_before_after=load,
        ),
        versus(
            "webhooks",
            "signed deliveries/s until every wake-up taken",
            drained,
            noop,
            "/s",
            target=f">= {THROUGHPUT_TARGET} x no-op tasks/s",
            met=drained / noop >= THROUGHPUT_TARGET,
            extra={"runs": [round(x, 2) for x in result["drained_per_s"]]},
        ),
    ]


# --- In the child process (Django set up for the webhooks database) ---------------------------


def measure(*, runs: int, cases: int, noops: int, samples: int) -> dict:
    """All measurements, run in a child process that shares the worker's broker prefix and
    holds the receiver."""
    import redis
    from django.conf import settings

    from accounts.models import User
    from bench.scenarios import routing
    from config.celery import app
    from tests.integrations.receiver import Receiver

    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    broker = redis.Redis.from_url(REDIS_URL)
    people = {
        "citizen": User.objects.filter(email__startswith="bench-citizen-").order_by("pk").first(),
        "clerk": User.objects.get(email="clerk.tax@demo.gov"),
        "admin": User.objects.get(email="admin@demo.gov"),
    }
    routing._wait_for_worker(app)
    log: list[str] = []
    out: dict = {
        "deliveries": 2 * cases,
        "noops": noops,
        "delivered_per_s": [],
        "noop_per_s": [],
        "delivery_latency": [],
        "noop_latency": [],
    }
    with Receiver() as receiver:
        subscription = _subscribe(receiver, people["admin"])
        bench = _Bench(app, broker, prefix, receiver, subscription, people)
        bench.batch(10)  # warm-up: imports, connections, caches, the receiver's threads
        routing._noop_batch(app, broker, prefix, 100, QUEUE)
        for n in range(runs):
            # Alternate which side goes first, so drift on a shared machine hits both alike.
            sides = [
                ("webhooks", lambda: bench.batch(cases)),
                ("no-op", lambda: routing._noop_batch(app, broker, prefix, noops, QUEUE)),
            ]
            for name, measure_side in sides if n % 2 == 0 else reversed(sides):
                rate = measure_side()
                out["delivered_per_s" if name == "webhooks" else "noop_per_s"].append(rate)
                log.append(f"run {n + 1} {name:8} throughput {rate:8.1f}/s")
                if name == "webhooks":
                    delivered, taken = bench.phases[-1]
                    log.append(
                        f"run {n + 1} webhooks: last delivery verified after {delivered:.2f} s, "
                        f"last wake-up call taken after {taken:.2f} s"
                    )
            delivery_lat = bench.latencies(samples)
            noop_lat = [routing._noop_one(n, i, QUEUE) for i in range(samples)]
            out["delivery_latency"] += delivery_lat
            out["noop_latency"] += noop_lat
            log.append(
                f"run {n + 1} latency p95 webhook {median_p95(delivery_lat)[1] * 1000:.1f} ms, "
                f"no-op {median_p95(noop_lat)[1] * 1000:.1f} ms"
            )
        seen = receiver.snapshot()
    out["phases"] = [[round(a, 3), round(b, 3)] for a, b in bench.phases[1:]]
    out["drained_per_s"] = bench.drained_rates[1:]  # the warm-up's left out
    out["receiver"] = {
        "verified": len(seen["accepted"]),
        "duplicates": seen["duplicates"],
        "refused": len(seen["refused"]),
        "out_of_order": len(seen["unordered"]),
    }
    if seen["refused"] or seen["unordered"]:
        raise RuntimeError(f"the receiver refused or reordered deliveries: {out['receiver']}")
    out["log"] = log
    return out


def _subscribe(receiver, admin):
    from accounts.models import Department
    from integrations.actions import subscription_create
    from integrations.constants import EventType

    created = subscription_create(
        actor=admin,
        department=Department.objects.get(slug="tax"),
        url=receiver.url,
        events=list(EventType.values),
        label="Benchmark receiver",
    )
    receiver.secret = created.secret
    return created.subscription


class _Bench:
    """The webhook side's measurements, on one subscription and its receiver."""

    def __init__(self, app, broker, prefix, receiver, subscription, people) -> None:
        self.app, self.broker, self.prefix = app, broker, prefix
        self.receiver, self.subscription, self.people = receiver, subscription, people
        self.phases: list[tuple[float, float]] = []  # (all delivered, all taken), seconds
        self.drained_rates: list[float] = []  # deliveries / seconds until all taken

    def _open_tax_cases(self, count: int) -> list:
        """`count` moving-house applications of the bench citizen routed in this process: each
        opens a tax case (its `case.opened` in the outbox)."""
        from bench.scenarios._portal import submit_in_process
        from workflows.models import Case
        from workflows.routing import advance

        ids = [submit_in_process(self.people["citizen"]).pk for _ in range(count)]
        for application_id in ids:
            advance(application_id=application_id)
        return list(Case.objects.filter(application_id__in=ids, step="tax"))

    def _quiet(self) -> None:
        """Every queue empty and nothing unacknowledged: the changes' wake-up calls and
        e-mails are done."""
        from bench.scenarios import routing

        queues = ("routing", "notifications", "maintenance")
        routing._wait(lambda: routing._drained(self.broker, self.prefix, queues), interval=0.01)

    def batch(self, size: int) -> float:
        """Deliveries per second of `size` cases' two events each (see the module's text)."""
        from bench.scenarios import routing
        from integrations import emission
        from integrations.actions import subscription_pause, subscription_resume
        from workflows.actions import case_claim

        admin, clerk = self.people["admin"], self.people["clerk"]
        subscription_pause(actor=admin, subscription=self.subscription)
        for case in self._open_tax_cases(size):
            case_claim(case=case, actor=clerk)
        self._quiet()
        before = self.receiver.count()
        changes = 2 * size
        routing._consume(self.app, False, QUEUE)
        emission.forget_wake()
        subscription_resume(actor=admin, subscription=self.subscription)  # one wake-up call
        # What the changes' commits would have queued meanwhile: none while that call waits
        # (integrations.emission), so normally the one call sends everything.
        queued = 1 + sum(emission._wake() for _ in range(changes - 1))
        routing._consume(self.app, True, QUEUE)
        start = routing._taken(self.broker, self.prefix, queued, QUEUE)
        last = self.receiver.wait_for_count(before + changes, timeout=600)
        end = routing._wait(
            lambda: routing._drained(self.broker, self.prefix, (QUEUE,)), interval=0.005
        )
        # Two clocks: until the last delivery is verified (the deliveries' throughput), and
        # until every wake-up call was taken (each finds nothing due once the batch is out).
        self.phases.append((last - start, end - start))
        self.drained_rates.append(changes / (end - start))
        return changes / (last - start)

    def latencies(self, samples: int) -> list[float]:
        """Commit -> verified by the receiver, one claim at a time."""
        from django.db import transaction

        from integrations.models import Delivery
        from workflows.actions import case_claim

        before = self.receiver.count()
        opened = self._open_tax_cases(samples)
        self.receiver.wait_for_count(before + len(opened), timeout=600)
        self._quiet()
        found = []
        for case in opened:
            committed: list[float] = []
            with transaction.atomic():
                # Registered before the action's own hooks, so it runs first: the time of the
                # commit, before the wake-up call is sent.
                transaction.on_commit(lambda done=committed: done.append(time.perf_counter()))
                case_claim(case=case, actor=self.people["clerk"])
            message_id = (
                Delivery.objects.filter(subscription=self.subscription, case=case)
                .order_by("-sequence")
                .values_list("message_id", flat=True)[0]
            )
            found.append(self.receiver.arrival(message_id, timeout=60) - committed[0])
        return found
