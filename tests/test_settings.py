"""Production settings pass `check --deploy` with no warnings and refuse to run without secrets
or the portal's public address; the web server, the worker and beat default to the same
settings module."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_TEST"))}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PROD = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "DATABASE_URL": "postgres://portal@db.internal:5432/portal",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "DJANGO_ALLOWED_HOSTS": "portal.example.gov",
    "PORTAL_ENCRYPTION_KEYS": "k1:" + base64.b64encode(b"k" * 32).decode(),
    "PORTAL_BLIND_INDEX_KEY": base64.b64encode(b"b" * 32).decode(),
    "PORTAL_AUDIT_SIGNING_KEY": "a1:" + base64.b64encode(b"s" * 32).decode(),
    "PORTAL_BASE_URL": "https://portal.example.gov",
}


def test_prod_passes_check_deploy_with_zero_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        **PROD,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_prod_refuses_a_missing_secret_key():
    result = _manage("check", **PROD)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, "DATABASE_URL"),
        ({"PORTAL_ENCRYPTION_KEYS": ""}, "PORTAL_ENCRYPTION_KEYS"),
        ({"PORTAL_BASE_URL": ""}, "ImproperlyConfigured: Production needs PORTAL_BASE_URL"),
        ({"PORTAL_BASE_URL": "   "}, "ImproperlyConfigured: Production needs PORTAL_BASE_URL"),
        (
            {"PORTAL_BASE_URL": "portal"},
            "ImproperlyConfigured: PORTAL_BASE_URL must be an http(s) address",
        ),
        (
            {"WEBHOOK_ALLOW_HTTP": "1"},
            "ImproperlyConfigured: WEBHOOK_ALLOW_HTTP is for development",
        ),
    ],
    ids=[
        "to-run-on-sqlite",
        "to-run-without-encryption-keys",
        "to-start-without-the-base-url",
        "to-start-with-a-blank-base-url",
        "a-base-url-that-is-not-an-address",
        "to-send-webhooks-over-plain-http",
    ],
)
def test_prod_refuses(setting, expected):
    env = {**PROD, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64), **setting}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert expected in result.stderr


def test_prod_reads_the_base_url_without_a_trailing_slash():
    env = {**PROD, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    env["PORTAL_BASE_URL"] = "https://portal.example.gov/"
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.PORTAL_BASE_URL)", **env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "https://portal.example.gov"


# What each entry point loads when DJANGO_SETTINGS_MODULE is not set: the settings module, and
# for Celery the broker its worker and beat would use (read from those settings).
_ENTRY_POINTS = {
    "gunicorn (config.wsgi)": "import config.wsgi",
    "asgi (config.asgi)": "import config.asgi",
    "celery worker and beat (-A config)": (
        "from config import celery_app; "
        "print('broker', celery_app.conf.broker_url, file=sys.stderr)"
    ),
}


@pytest.mark.parametrize("entry", _ENTRY_POINTS)
def test_the_web_server_worker_and_beat_default_to_production_settings(entry):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_TEST"))}
    env |= {**PROD, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64)}
    del env["DJANGO_SETTINGS_MODULE"]
    code = (
        "import os, sys; "
        f"{_ENTRY_POINTS[entry]}; "
        "from django.conf import settings; "
        "print(os.environ['DJANGO_SETTINGS_MODULE'], settings.SETTINGS_MODULE, settings.DEBUG)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.prod", "config.settings.prod", "False"]
    if "celery" in entry:
        assert "broker redis://cache.internal:6379/0" in result.stderr
