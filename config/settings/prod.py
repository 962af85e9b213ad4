"""Production: PostgreSQL and Redis, secrets and hosts from the environment, strict headers."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, SECRET_KEY, WEBHOOK_ALLOW_HTTP
from .env import env_bool, env_int, env_str

DEBUG = False
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to at least 50 random characters.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env_bool(
    "PORTAL_ALLOW_SQLITE", False
):
    raise ImproperlyConfigured("Production needs DATABASE_URL (PostgreSQL).")
if not REDIS_URL and not env_bool("PORTAL_ALLOW_FILESYSTEM_BROKER", False):
    raise ImproperlyConfigured("Production needs REDIS_URL for the Celery broker.")

for _name in ("PORTAL_ENCRYPTION_KEYS", "PORTAL_BLIND_INDEX_KEY", "PORTAL_AUDIT_SIGNING_KEY"):
    if not env_str(_name, ""):
        raise ImproperlyConfigured(f"Production needs {_name} (see docs/operations.md, keys).")

# The backup key only ever comes from PORTAL_BACKUP_KEY here (backups refuse to run without
# it; the portal itself runs without backups configured).
PORTAL_BACKUP_KEY_FILE = ""

# Workers build the links in emails from it (no request to take the host from): the default,
# the development address, would send citizens and staff to 127.0.0.1.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "").strip().rstrip("/")
if not PORTAL_BASE_URL:
    raise ImproperlyConfigured(
        "Production needs PORTAL_BASE_URL: the portal's public address, for the links in emails "
        "that workers send (for example https://portal.example.gov)."
    )
_base = urlsplit(PORTAL_BASE_URL)
if _base.scheme not in ("http", "https") or not _base.netloc:
    raise ImproperlyConfigured(
        f"PORTAL_BASE_URL must be an http(s) address such as https://portal.example.gov, "
        f"not {PORTAL_BASE_URL!r}."
    )

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Webhooks carry a department's cases (and, where allowed, personal values): never over plain
# http in production, whatever the environment says.
if WEBHOOK_ALLOW_HTTP:
    raise ImproperlyConfigured(
        "WEBHOOK_ALLOW_HTTP is for development only: production sends webhooks over https."
    )
