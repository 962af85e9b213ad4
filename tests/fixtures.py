"""The suite's shared fixtures, one plugin (registered by `pytest_plugins` in tests/conftest.py).

Every fixture name here is unique in the suite; test modules keep only fixtures of their own and
never import one. Helpers are in `tests/support.py`, data in `tests/data.py`, factories in
`tests/factories.py`. How the pieces fit: docs/testing.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest

from tests.data import BLIND, K1
from tests.snapshot import Snapshot
from tests.support import (
    CHROMIUM,
    REQUIRE_SERVICES,
    ROOT,
    RUNNING_WORKERS,
    WEBHOOK_TEST_ENV,
    Clock,
    WorkerProcess,
    need,
    quiesce_workers,
    redis_available,
    stop_process,
    wait_for,
)

# --- The append-only audit table and test isolation ---------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _flush_as_database_owner():
    """Transactional tests empty every table between tests; the append-only tables (the audit
    log, open-data releases: every guard registered with `core.guards`) refuse that, so the
    flush runs as the database owner would: PostgreSQL's replica role skips ordinary triggers
    (superuser only), and on SQLite every registered guard is lifted for the flush and put
    back.

    The flush empties every table but the content types and permissions, which `migrate` made
    and nothing in the tests changes, so the post-migrate signal that would make them again
    (several hundred rows, most of a flush's time) is not sent; they also keep their ids. On
    PostgreSQL the tables are emptied with DELETE in one transaction rather than TRUNCATE,
    which gives every table new files: a few milliseconds instead of about a second for
    the suite's small tables. The replica role also skips the foreign key checks, so the order
    does not matter."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.color import no_style
    from django.core.management.commands import flush
    from django.db import transaction

    from core import guards

    original = flush.Command.handle
    kept = {ContentType._meta.db_table, Permission._meta.db_table}

    def handle(self, **options):
        from django.db import connections

        quiesce_workers()
        database = options.get("database") or "default"
        connection = connections[database]
        tables = [
            t
            for t in connection.introspection.django_table_names(
                only_existing=True, include_views=False
            )
            if t not in kept
        ]
        quote = connection.ops.quote_name
        if connection.vendor == "postgresql":
            statements = [f"DELETE FROM {quote(t)}" for t in tables]  # noqa: S608
            if options.get("reset_sequences"):
                statements += connection.ops.sequence_reset_by_name_sql(
                    no_style(), connection.introspection.sequence_list()
                )
            with transaction.atomic(using=database), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                for statement in statements:
                    cursor.execute(statement)
            return
        statements = connection.ops.sql_flush(
            no_style(), tables, reset_sequences=bool(options.get("reset_sequences"))
        )
        with guards.lifted(connection):
            connection.ops.execute_sql_flush(statements)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture(autouse=True, scope="session")
def _live_server_without_nagle():
    """Live servers (`live_server`, the contract test's) answer without Nagle's algorithm.

    Django's test server writes a response's headers and body in separate small writes; on a
    kept-alive connection Nagle's algorithm holds the body until the client acknowledges the
    headers, which the client delays (delayed ACK, about 40 ms). Every request of a client
    that keeps its connection open (schemathesis, the browser) then took about 60 ms instead
    of 5 to 10. TCP_NODELAY on the accepted sockets (`disable_nagle_algorithm`) sends each
    write at once; what the server answers is unchanged."""
    from django.test import testcases

    handler = testcases.QuietWSGIRequestHandler
    original = handler.disable_nagle_algorithm
    handler.disable_nagle_algorithm = True
    yield
    handler.disable_nagle_algorithm = original


@pytest.fixture(autouse=True)
def _checkpoint_folder(settings, tmp_path):
    """Each test exports audit checkpoints to a folder of its own (the database is emptied
    between tests; an exported series from an earlier test would not match it)."""
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "audit-checkpoints")


@pytest.fixture(autouse=True)
def _english(settings) -> None:
    """The suite asserts English wording: a request without Accept-Language, and a message to a
    person who chose no language, are in English here. The product's default is Simplified
    Chinese (config/settings/base.py); tests/test_translations.py tests it (docs/translation.md,
    "The tests and the language")."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def as_owner():
    """Act behind the application's back, as a database owner who lifts the audit triggers."""
    from django.db import connection

    from audit import guards

    guards.remove(connection)
    yield
    guards.install(connection)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Uploaded files go to this test's own folder."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The time, held still: `django.utils.timezone.now` answers the clock's instant (this
    test's start) until the test moves it with `clock.advance(...)`. Every `timezone.now()`
    of the code under test reads it (model field defaults bound at import do not)."""
    from django.utils import timezone

    test_clock = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", test_clock.now)
    return test_clock


# --- The demo catalog, seeded once per session ---------------------------------------------------
#
# Seeding the demo catalog through the actions takes a few hundred queries; many tests need it.
# Each kind is seeded once per test process (`Snapshot.capture`, between two tests, rolled back)
# and its rows are copied back in each test that asks for it (`Snapshot.restore`, a few
# milliseconds), the same rows with the same keys, audit events included:
#
# - in a test rolled back at its end, the rows go with the test's transaction;
# - in a transactional test (transactional_db, live_server, a real worker), they are committed
#   like the test's own rows, so other processes see them, and the flush after the test empties
#   them with the rest. Nothing outlives the test, so a test that does not ask for the catalog
#   finds the database as empty as before, and tests that count audit events count the same.
#
# A test that changes the keys or the demo secrets before asking (the key rotation tests) gets
# the real seed instead: the snapshot's ciphertexts and authenticators are under the keys of
# the capture (`Snapshot.matches_environment`).


def _seed_catalog() -> None:
    from django.utils import translation

    from accounts.actions import department_create
    from demo.accounts import DEPARTMENT_TRANSLATIONS, DEPARTMENTS
    from demo.seed import seed_catalog

    # In English, as every test reads (`_english`): the snapshot is taken once, outside any
    # test, where the product's default language (Chinese) would name the demo staff.
    with translation.override("en"):
        for slug, name, email in DEPARTMENTS:
            department_create(
                actor=None,
                slug=slug,
                name=name,
                contact_email=email,
                translations=DEPARTMENT_TRANSLATIONS[slug],
            )
        seed_catalog()


def _seed_demo() -> None:
    from django.core.management import call_command
    from django.utils import translation

    with translation.override("en"):  # as `_seed_catalog`
        call_command("seed_demo", stdout=StringIO())


def _restore(snapshot: Snapshot, seed) -> None:
    from django.core.cache import cache

    if snapshot.matches_environment():
        snapshot.restore()
        # Restored rows keep their keys from test to test (seeded ones did not): nothing cached
        # under one of them by an earlier test (a used TOTP code, a rate) may carry over.
        cache.clear()
    else:
        seed()


@pytest.fixture(scope="session")
def _catalog_snapshot(django_db_setup, django_db_blocker) -> Snapshot:
    with django_db_blocker.unblock():
        return Snapshot.capture(_seed_catalog)


@pytest.fixture(scope="session")
def _demo_snapshot(django_db_setup, django_db_blocker) -> Snapshot:
    with django_db_blocker.unblock():
        return Snapshot.capture(_seed_demo)


@pytest.fixture
def catalog(_catalog_snapshot, db) -> None:
    """The demo departments and the demo catalog (data dictionary, three published life
    events), as `department_create` and `seed_catalog` make them; no accounts."""
    _restore(_catalog_snapshot, _seed_catalog)


@pytest.fixture
def demo(_demo_snapshot, db) -> None:
    """Everything `seed_demo` makes: the departments, the demo accounts (clerks and leads of
    every department with their TOTP, two citizens, a supervisor, an administrator) and the
    demo catalog."""
    _restore(_demo_snapshot, _seed_demo)


# --- People and clients -------------------------------------------------------------------------


@pytest.fixture
def citizen(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def other_citizen(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def api(citizen):
    from tests.factories import api_client

    return api_client(citizen)


@pytest.fixture
def other_api(other_citizen):
    from tests.factories import api_client

    return api_client(other_citizen)


# --- Applications and cases on the demo data ----------------------------------------------------


@pytest.fixture
def routed(demo):
    """A moving-house application with a vehicle, routed: (application, {step: case})."""
    from tests.factories import ApplicationFactory

    application = ApplicationFactory(routed=True, vehicle=True)
    return application, {c.step: c for c in application.cases.all()}


@pytest.fixture
def tax_case(demo):
    """The tax office's open case of a routed moving-house application."""
    from tests.factories import CaseFactory

    return CaseFactory(step="tax")


# --- Encryption keys ----------------------------------------------------------------------------


@pytest.fixture
def keys(monkeypatch):
    """`keys(PORTAL_ENCRYPTION_KEYS, active)`: switch the keyring in the environment."""
    from privacy import crypto

    def use(keys: str, active: str):
        monkeypatch.setenv("PORTAL_ENCRYPTION_KEYS", keys)
        monkeypatch.setenv("PORTAL_ENCRYPTION_ACTIVE_KEY", active)
        monkeypatch.setenv("PORTAL_BLIND_INDEX_KEY", BLIND)
        crypto.reset_keyring_cache()

    yield use
    monkeypatch.delenv("PORTAL_ENCRYPTION_KEYS")
    monkeypatch.delenv("PORTAL_ENCRYPTION_ACTIVE_KEY")
    monkeypatch.delenv("PORTAL_BLIND_INDEX_KEY")
    crypto.reset_keyring_cache()


@pytest.fixture
def on_k1(keys):
    """K1 active before anything is encrypted: listed before `demo`, so the demo staff's
    two-factor secrets are encrypted under it too (rotate_keys re-encrypts them)."""
    keys(K1, "k1")


# --- Services -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, dropped at the end with no other session on it
    (PostgreSQL refuses to drop a database another session is connected to). A process the
    tests started (the worker, gunicorn) leaves it a moment after it stops: that is waited
    for. A connection of this process that is no longer reachable from here (one a finished
    thread or another context opened: Django keeps connections per context) would stay until
    the process exits: after the wait, such leftovers are ended, as `DROP DATABASE ... WITH
    (FORCE)` would."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        try:
            wait_for(_alone_on_the_database, timeout=5)
        except pytest.fail.Exception:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            wait_for(_alone_on_the_database, timeout=30, diagnostics=_other_sessions)


def _other_sessions() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, client_port, state, backend_start, query "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return "\n".join(repr(row) for row in cursor.fetchall())


def _alone_on_the_database() -> bool:
    return not _other_sessions()


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
        **WEBHOOK_TEST_ENV,
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
        "tests.worker_app",
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

    def ready() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"the Celery worker stopped:\n{worker.output()[-3000:]}")
        return " ready." in worker.output()

    try:
        wait_for(ready, timeout=60, interval=0.2, diagnostics=worker.output)
    except BaseException:
        proc.kill()
        raise
    RUNNING_WORKERS.append(worker)
    yield worker
    RUNNING_WORKERS.remove(worker)
    stop_process(proc)


@pytest.fixture
def live_worker(celery_worker_process, transactional_db) -> Iterator[WorkerProcess]:
    """A running worker for a test whose data it must see (committed, so transactional)."""
    if celery_worker_process.proc.poll() is not None:
        pytest.fail(f"the Celery worker died:\n{celery_worker_process.output()[-3000:]}")
    yield celery_worker_process
    # The test database is flushed next: a task still running then would deadlock with it.
    celery_worker_process.wait_idle()


@pytest.fixture
def live_beat(require_redis, live_worker, tmp_path) -> Iterator[Path]:
    """Celery beat beside the worker, for this test, scheduling only the webhook sweep
    (`dispatch-webhooks`, every WEBHOOK_DISPATCH_SECONDS of tests.support.WEBHOOK_TEST_ENV):
    what delivers the outbox when no wake-up call came. The test settings schedule nothing
    (tests/beat_app.py). Yields beat's log; stopped before the worker is waited for."""
    from django.db import connection

    log = tmp_path / "beat.log"
    env = {
        **os.environ,
        **WEBHOOK_TEST_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PORTAL_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "PORTAL_TEST_BEAT": "dispatch-webhooks",
    }
    cmd = [
        sys.executable, "-m", "celery", "-A", "tests.beat_app", "beat",
        "--schedule", str(tmp_path / "beat-schedule"),
        "--loglevel", "INFO",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def output() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    def sending() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"Celery beat stopped:\n{output()[-3000:]}")
        return "Sending due task" in output()

    try:
        wait_for(sending, timeout=60, interval=0.1, diagnostics=output)
        yield log
    finally:
        stop_process(proc)


@pytest.fixture
def live_receiver():
    """A department's webhook receiver on 127.0.0.1, a real HTTP server (`Receiver` of
    tests/integrations/receiver.py), closed after the test; the test gives it the
    subscription's secret."""
    from tests.integrations.receiver import Receiver

    with Receiver() as receiver:
        yield receiver


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
    import shutil

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
def routed_moving_journey(transactional_db, monkeypatch):
    """For a browser journey: everything `seed_demo` makes, committed and signed in with the
    test password and TOTP secret, and a moving-house application of mover@example.org,
    submitted and routed."""
    from django.core.cache import cache
    from django.core.management import call_command

    from tests.factories import PASSWORD, TOTP_SECRET, UserFactory, submit_moving
    from workflows import routing

    cache.clear()
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    monkeypatch.setenv("DEMO_TOTP_SECRET", TOTP_SECRET)
    call_command("seed_demo", stdout=StringIO())
    application = submit_moving(citizen=UserFactory(email="mover@example.org"))
    routing.advance(application_id=application.pk)
    return application


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


# --- The page inventory of the browser walks (tests/e2e/inventory.py) ---------------------------


@pytest.fixture
def walk_world(demo, live_server):
    """The demo data, committed for the live server, and the `World` the inventory's pages are
    reached with (it makes what a page needs on first use)."""
    from tests.e2e.inventory import World

    return World()


@pytest.fixture
def walk_page(browser, live_server, walk_world):
    """`walk_page(page, language, **options)`: an inventory page opened in the browser as its
    role and in `language` (`tests.e2e.walk.open_page`); its context is closed after the test."""
    from tests.e2e.walk import open_page

    contexts = []

    def open_(page, language: str, **options):
        context, tab = open_page(browser, live_server.url, walk_world, page, language, **options)
        contexts.append(context)
        return tab

    yield open_
    for context in contexts:
        context.close()


# --- Webhooks to department systems -------------------------------------------------------------


@pytest.fixture
def webhook_receiver(monkeypatch):
    """A department system's endpoint: every webhook the portal sends goes to this recorder
    (`tests/integrations/receiver.py`), which answers 204 unless the test says otherwise."""
    from integrations import delivery
    from tests.integrations.receiver import MockReceiver

    receiver = MockReceiver()
    client = receiver.client()
    monkeypatch.setattr(delivery, "client", lambda server_name="": client)
    yield receiver
    client.close()


@pytest.fixture
def tax_subscription(demo, webhook_receiver):
    """The tax bureau's subscription to every event, made by the administrator: (created
    subscription with its secret, the administrator)."""
    from accounts.models import Department, User
    from integrations import actions as webhook_actions
    from integrations.constants import EventType

    admin = User.objects.get(email="admin@demo.gov")
    created = webhook_actions.subscription_create(
        actor=admin,
        department=Department.objects.get(slug="tax"),
        url="https://127.0.0.1/hooks",
        events=list(EventType.values),
        label="Tax back office",
    )
    return created, admin


@pytest.fixture
def local_receiver():
    """A real HTTP server on 127.0.0.1 recording what it receives (`LocalReceiver.received`);
    gives its base address."""
    import http.server
    import threading

    from tests.integrations.receiver import LocalReceiver

    LocalReceiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), LocalReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
