"""Production settings pass `check --deploy` with no warnings and refuse to run without secrets."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

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


def test_prod_refuses_to_run_on_sqlite():
    env = {
        **PROD,
        "DATABASE_URL": "sqlite:////tmp/x.sqlite3",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    }
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_prod_refuses_to_run_without_encryption_keys():
    env = {**PROD, "DJANGO_SECRET_KEY": secrets.token_urlsafe(64), "PORTAL_ENCRYPTION_KEYS": ""}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "PORTAL_ENCRYPTION_KEYS" in result.stderr
