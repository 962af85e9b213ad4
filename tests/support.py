"""Helpers the tests import: service checks, waiting for a condition, the test worker, a clock.

Fixtures live in `tests/fixtures.py` (the plugin the root conftest registers); this module only
holds plain functions and classes, so importing it never registers a fixture twice.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# The webhook settings of every worker and beat the tests start (they read the environment):
# short timeouts and retries, so the fault tests wait seconds, not hours, for a receiver that is
# back. The test settings already allow plain http to 127.0.0.1.
WEBHOOK_TEST_ENV = {
    "WEBHOOK_TIMEOUT_SECONDS": "1",
    "WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WEBHOOK_RETRY_MAX_SECONDS": "2",
    "WEBHOOK_FAILING_AFTER": "3",
    "WEBHOOK_MAX_ATTEMPTS": "100",
    "WEBHOOK_DISPATCH_SECONDS": "1",
}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent


def need(condition: bool, reason: str) -> None:
    """Skip when a service is missing, or fail when the run requires every service."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def redis_available() -> bool:
    from django.conf import settings

    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def wait_for(predicate, timeout: float = 30, interval: float = 0.1, diagnostics=None):
    """Poll until predicate() is truthy; return its value or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    details = f"\n{diagnostics()[-4000:]}" if diagnostics else ""
    pytest.fail(f"condition not met within {timeout}s{details}")


def totp_code(secret: str, *, valid_for: float = 5) -> str:
    """The TOTP code of the current 30-second window, once at least `valid_for` seconds of it
    are left. The portal accepts only the current window's code: one read at a window's last
    instant would have expired when the server checks it."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    wait_for(lambda: 30 - time.time() % 30 >= valid_for, timeout=valid_for + 1, interval=0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


class Clock:
    """The time as a test sets it: stands in for `django.utils.timezone.now` (the `clock`
    fixture), stays where it is and moves only when the test moves it."""

    def __init__(self, start: dt.datetime) -> None:
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        self._now += delta if delta is not None else dt.timedelta(**kwargs)
        return self._now


# A task's last line in the worker's log: done, failed, or retried (which is received again).
_TASK_FINISHED = re.compile(r"Task \S+\[[0-9a-f-]+\] (succeeded|raised|retry)")


class WorkerProcess:
    """The `celery worker` subprocess the tests start (the `celery_worker_process` fixture)."""

    def __init__(self, proc: subprocess.Popen, log: Path, outbox: Path) -> None:
        self.proc = proc
        self.log = log
        self.outbox = outbox  # the worker's emails, one file per message batch

    def emails(self) -> list[str]:
        return [p.read_text(errors="replace") for p in sorted(self.outbox.iterdir())]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def idle(self) -> bool:
        """No message waits in any queue, none is taken and unacknowledged (tasks acknowledge
        late, so that covers the task running and any held for a countdown; Redis only), and
        every task the worker logged as received has finished."""
        from django.conf import settings
        from kombu.exceptions import ChannelError

        from config.celery import app

        with app.connection_for_read() as conn:
            channel = conn.default_channel
            for queue in settings.CELERY_TASK_QUEUES:
                try:
                    if channel.queue_declare(queue.name, passive=True).message_count:
                        return False
                except ChannelError:  # Redis: an empty queue does not exist
                    continue
            unacked = getattr(channel, "unacked_key", None)
            if unacked and channel.client.hlen(unacked):
                return False
        log = self.output()
        return log.count("] received") == len(_TASK_FINISHED.findall(log))

    def wait_idle(self, timeout: float = 60) -> None:
        """Until the worker is idle, twice in a row a moment apart: a message the worker has
        just taken from a queue is neither queued nor logged for that moment.

        A routing task also routes other applications waiting to be routed (batches), so a test
        that needs nothing routed behind its back waits for earlier tests' messages first."""
        wait_for(lambda: self.idle() and (time.sleep(0.3) or self.idle()), timeout=timeout)


# The workers this test process started (the session's `celery_worker_process`).
RUNNING_WORKERS: list[WorkerProcess] = []


def quiesce_workers() -> None:
    """Before a flush: let a running worker finish what earlier tests queued (a routing task
    still writing would deadlock with the flush's deletes). Quick when it is idle already."""
    for worker in RUNNING_WORKERS:
        if worker.proc.poll() is not None:
            continue
        if not (worker.idle() and (time.sleep(0.05) or worker.idle())):
            worker.wait_idle()


def stop_process(proc: subprocess.Popen, *, timeout: float = 20) -> None:
    """Ask a server or worker the tests started to stop; kill it if it does not in time."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Point this process's Celery app at a port where nothing listens (a real failed connect):
    what a commit's wake-up call meets while the broker is down. The worker and beat keep theirs."""
    from config.celery import app

    good_url = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    _reset_producer_pool(app)
    try:
        yield
    finally:
        app.conf.broker_url = good_url
        _reset_producer_pool(app)


def _reset_producer_pool(app) -> None:
    # The next publish builds its producer pool from conf.broker_url again (kombu keeps one pool
    # per connection, so the good one is reused when the URL is restored).
    app._pool = None
    app.amqp._producer_pool = None
