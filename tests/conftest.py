"""Shared fixtures: a clean database per test (pytest-django), a real Celery worker, a browser.

With REQUIRE_SERVICES=1 (CI), a test that needs PostgreSQL, Redis, a worker or Chromium fails
instead of skipping, and any skipped test fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests share two cores with a worker, a browser and the database: no per-example
# deadline (a slow example is not a failure), the same number of examples everywhere.
hypothesis_settings.register_profile("portal", deadline=None)
hypothesis_settings.load_profile("portal")

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
_skipped: list[str] = []


def need(condition: bool, reason: str) -> None:
    """Skip when a service is missing, or fail when the run requires every service."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_SERVICES and _skipped and not hasattr(session.config, "workerinput"):
        print(f"\nREQUIRE_SERVICES=1: {len(_skipped)} test(s) were skipped, which is a failure:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- The append-only audit table and test isolation ---------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _flush_as_database_owner():
    """Transactional tests empty every table between tests; the audit table refuses that, so the
    flush runs as the database owner would: PostgreSQL's replica role skips ordinary triggers
    (superuser only), and on SQLite the guards are lifted for the flush and put back."""
    from django.core.management.commands import flush

    from audit import guards

    original = flush.Command.handle

    def handle(self, **options):
        from django.db import connections

        connection = connections[options.get("database") or "default"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")
            try:
                return original(self, **options)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = DEFAULT")
        guards.remove(connection)
        try:
            return original(self, **options)
        finally:
            guards.install(connection)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture(autouse=True)
def _checkpoint_folder(settings, tmp_path):
    """Each test exports audit checkpoints to a folder of its own (the database is emptied
    between tests; an exported series from an earlier test would not match it)."""
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "audit-checkpoints")


# --- Services ------------------------------------------------------------------------------------


def redis_available() -> bool:
    from django.conf import settings

    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def require_postgres(db) -> None:
    from django.db import connection

    need(
        connection.vendor == "postgresql",
        "the tests run on SQLite (set DATABASE_URL to PostgreSQL)",
    )


@pytest.fixture
def require_redis() -> None:
    need(redis_available(), "Redis is not reachable (set REDIS_URL)")


# --- A real Celery worker -----------------------------------------------------------------------


# A task's last line in the worker's log: done, failed, or retried (which is received again).
_TASK_FINISHED = re.compile(r"Task \S+\[[0-9a-f-]+\] (succeeded|raised|retry)")


class WorkerProcess:
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

    def wait_idle(self, timeout: float = 60) -> None:
        """Until no message waits in any queue and every task the worker took has finished.

        A routing task also routes other applications waiting to be routed (batches), so a test
        that needs nothing routed behind its back waits for earlier tests' messages first."""
        from django.conf import settings
        from kombu.exceptions import ChannelError

        from config.celery import app

        def idle() -> bool:
            with app.connection_for_read() as conn:
                channel = conn.default_channel
                for queue in settings.CELERY_TASK_QUEUES:
                    try:
                        if channel.queue_declare(queue.name, passive=True).message_count:
                            return False
                    except ChannelError:  # Redis: an empty queue does not exist
                        continue
            log = self.output()
            return log.count("] received") == len(_TASK_FINISHED.findall(log))

        wait_for(lambda: idle() and (time.sleep(0.3) or idle()), timeout=timeout)


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Iterator[WorkerProcess]:
    """A `celery worker` subprocess on the test database and this run's own broker keys."""
    from django.conf import settings
    from django.db import connection

    if REQUIRE_SERVICES:
        need(redis_available(), "Redis is not reachable for the Celery worker")
    with django_db_blocker.unblock():
        db_name = str(connection.settings_dict["NAME"])
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    outbox = tmp_path_factory.mktemp("worker-outbox")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PORTAL_TEST_DB_NAME": db_name,
        "PORTAL_TEST_EMAIL_DIR": str(outbox),
    }
    queues = ",".join(q.name for q in settings.CELERY_TASK_QUEUES)
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.celery_app",  # the project's app and the test worker's own signal handler
        "worker",
        "--pool",
        "solo",
        "--queues",
        queues,
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        "INFO",
        "--hostname",
        f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}@%h",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    worker = WorkerProcess(proc, log, outbox)
    deadline = time.monotonic() + 60
    while " ready." not in worker.output():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the Celery worker did not start:\n{worker.output()[-3000:]}")
        time.sleep(0.2)
    yield worker
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def live_worker(celery_worker_process, transactional_db) -> Iterator[WorkerProcess]:
    """A running worker for a test whose data it must see (committed, so transactional)."""
    if celery_worker_process.proc.poll() is not None:
        pytest.fail(f"the Celery worker died:\n{celery_worker_process.output()[-3000:]}")
    yield celery_worker_process
    # The test database is flushed next: a task still running then would deadlock with it.
    celery_worker_process.wait_idle()


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


# --- Browser ------------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    need(
        Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
        f"Chromium not found at {CHROMIUM}",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A phone-sized page (no JavaScript: every journey must work without it)."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        java_script_enabled=False,
        locale="en-GB",
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _english(settings) -> None:
    settings.LANGUAGE_CODE = "en"
