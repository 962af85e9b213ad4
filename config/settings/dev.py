"""Local development: the embedded default (SQLite, filesystem broker), console email."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, VAR_DIR
from .env import env_bool, env_str

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-for-anything-real-0123456789"
)
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
# Demo departments, accounts and catalog (`seed_demo`): development and tests only.
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
PORTAL_GENERATE_LOCAL_KEYS = True
# A local receiver over plain http (docs/integrations.md).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
VAR_DIR.mkdir(parents=True, exist_ok=True)
