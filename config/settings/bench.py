"""Benchmarks (`make bench`): production-like request handling (DEBUG off, throttling off so
the load generator is not refused), PostgreSQL and Redis from the environment, local key files
under var/bench/, and the bare-stack baseline app (`bench.baseline`) mounted at /bench/."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, REST_FRAMEWORK, VAR_DIR
from .env import env_bool, env_str

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "bench-only-insecure-key-0123456789-abcdefghijklmnopqrstuv"
)
INSTALLED_APPS = [*INSTALLED_APPS, "demo", "bench.baseline"]
ROOT_URLCONF = "bench.baseline.urls"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "address": None},
}
ACCOUNT_RATE_LIMITS = False
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_BENCH_DIR = VAR_DIR / "bench"
_BENCH_DIR.mkdir(parents=True, exist_ok=True)
PORTAL_GENERATE_LOCAL_KEYS = True
PORTAL_KEY_FILE = str(_BENCH_DIR / "keys.json")
PORTAL_AUDIT_KEY_FILE = str(_BENCH_DIR / "audit-signing.key")
PORTAL_BACKUP_KEY_FILE = str(_BENCH_DIR / "backup.key")
PORTAL_BACKUP_DIR = str(_BENCH_DIR / "backups")
# The scenarios time their own work and want none of beat's; the load test (`make load`) runs
# beat with the real schedule, as a deployment does.
if not env_bool("BENCH_BEAT", False):
    CELERY_BEAT_SCHEDULE = {}
# Each benchmark database keeps its exported audit checkpoints apart (never the dev stack's).
AUDIT_CHECKPOINT_DIR = str(
    _BENCH_DIR / "checkpoints" / env_str("DATABASE_URL", "default").rsplit("/", 1)[-1]
)
