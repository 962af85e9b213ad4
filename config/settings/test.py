"""Settings for pytest: the same as dev, with fast hashing and an isolated broker per run."""

import os
import uuid

from .dev import *  # noqa: F403
from .dev import BROKER_DIR, DATABASES, REDIS_URL
from .env import env_list, filesystem_broker_options

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The Celery worker the tests start writes its emails to files the test process can read.
if os.environ.get("PORTAL_TEST_EMAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["PORTAL_TEST_EMAIL_DIR"]
# A web server a test starts may ask for production's format (json) and a lower level.
LOG_FORMAT = os.environ.get("PORTAL_TEST_LOG_FORMAT", "plain")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
LOGGING["root"]["level"] = os.environ.get("PORTAL_TEST_LOG_LEVEL", "WARNING")  # noqa: F405
# Throttling and sign-in limits are off by default in tests (the suite sends many requests from
# one address); tests/security/test_throttling.py turns them on.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "address": None},
}
ACCOUNT_RATE_LIMITS = False

# One id per pytest run (inherited by xdist workers and by the Celery worker the tests start),
# so parallel runs on one Redis never see each other's messages.
TEST_RUN_ID = os.environ.setdefault("PORTAL_TEST_RUN_ID", uuid.uuid4().hex[:10])
_XDIST = os.environ.get("PYTEST_XDIST_WORKER", "main")
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "global_keyprefix": f"portal-test-{TEST_RUN_ID}-{_XDIST}:",
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(
        BROKER_DIR / f"test-{TEST_RUN_ID}-{_XDIST}"
    )
CELERY_BEAT_SCHEDULE = {}
# One local key file per run, shared with the worker the tests start.
PORTAL_KEY_FILE = str(VAR_DIR / f"test-keys-{TEST_RUN_ID}-{_XDIST}.json")  # noqa: F405
PORTAL_GENERATE_LOCAL_KEYS = True
PORTAL_AUDIT_KEY_FILE = str(VAR_DIR / f"test-audit-{TEST_RUN_ID}-{_XDIST}.key")  # noqa: F405
PORTAL_BACKUP_KEY_FILE = str(VAR_DIR / f"test-backup-{TEST_RUN_ID}-{_XDIST}.key")  # noqa: F405
PORTAL_BACKUP_DIR = str(VAR_DIR / f"test-backups-{TEST_RUN_ID}-{_XDIST}")  # noqa: F405

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Test data is thrown away: a commit need not wait for the disk. Visibility and locking are
    # unchanged (other sessions see a commit at once); only a crash of the server itself would
    # lose the last commits. Every process the tests start reads these settings too.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a worker process started by the tests sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{TEST_RUN_ID}.sqlite3")}  # noqa: F405

# A Celery worker started by the tests is pointed at the test database by name.
if os.environ.get("PORTAL_TEST_DB_NAME"):
    DATABASES["default"]["NAME"] = os.environ["PORTAL_TEST_DB_NAME"]

# Webhooks go to a receiver on this machine (the worker the tests start reads the environment).
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,::1")
# Reliability tests: the sweeper acts quickly.
ROUTING_SWEEP_AFTER_SECONDS = 1
# A private cache per test process: nothing (rate limits, used TOTP codes) leaks between runs.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AUDIT_CHECKPOINT_DIR = str(VAR_DIR / f"test-checkpoints-{TEST_RUN_ID}-{_XDIST}")  # noqa: F405
