"""Settings shared by every environment; everything that varies comes from the environment.

Over 400 lines: Django reads its settings from one module, and splitting it would only hide
which value wins; each section is headed by a comment and docs/operations.md lists every
variable read here."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from .env import env_bool, env_int, env_list, env_str, filesystem_broker_options

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Templates, static files and translations ship inside the `config` package, so an installed
# wheel carries them too (BASE_DIR is the checkout only when running from one).
PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Runtime state of the embedded default (SQLite file, broker folders, uploads, beat schedule).
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's form templates for FORM_RENDERER below.
    "django.forms",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "guardian",
    "csp",
    "core",
    "privacy",
    "accounts",
    "audit",
    "services",
    "workflows",
    "receipts",
    "oversight",
    "opendata",
    "integrations",
    "backups",
]

MIDDLEWARE = [
    "core.middleware.RequestContextMiddleware",
    "core.limits.RequestBodyLimitMiddleware",
    "core.throttling.ApiAddressThrottleMiddleware",
    "core.middleware.RejectNulMiddleware",
    "services.middleware.CatalogMemoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserLanguageMiddleware",
    "core.middleware.RequestUserContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMfaMiddleware",
]

ROOT_URLCONF = "config.urls"
# Widgets render with the TEMPLATES setting, so config/templates can override a widget's template
# (the admin's date and time inputs get labels there: axe, WCAG 2.1 "label").
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# PostgreSQL in production and CI (DATABASE_URL); an SQLite file as the zero-setup default.
SQLITE_OPTIONS = {
    # WAL lets the web, worker and beat processes read while one writes; IMMEDIATE takes the
    # write lock at BEGIN so concurrent writers wait (up to timeout) instead of failing.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, throttling); shared Redis when there is one -------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        }
    }
else:
    CACHES = {
        "default": {
            # Shared by the web, worker and beat processes of the embedded default.
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
    # Model-wide read permissions of portal-wide roles (supervisors).
    "accounts.backends.StaffRoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
# The adapter also prefixes allauth's email subjects with the portal's name in the email's language.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Sign-in limits (allauth; counted in the cache, per client address as RequestContextMiddleware
# computes it: accounts.adapters.AccountAdapter.get_client_ip). The per-address limits are the
# strong ones (an hour's budget); the per-account limit on failures has a short window, so a
# stranger who knows an email address can block its sign-in for five minutes at most, and only
# by spending their own address's budget.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip,300/h/ip",
    "login_failed": "10/m/ip,30/h/ip,10/5m/key",
    "signup": "20/m/ip,100/h/ip",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# TOTP secrets and recovery-code seeds are encrypted with the personal-data keys.
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
# API tokens expire this many days after they are issued (`issue_token --days` overrides it).
API_TOKEN_LIFETIME_DAYS = env_int("API_TOKEN_LIFETIME_DAYS", 90)
# Clerks, leads, supervisors and administrators must use TOTP (accounts/middleware.py).
PORTAL_STAFF_MFA_REQUIRED = env_bool("PORTAL_STAFF_MFA_REQUIRED", True)
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Citizen portal")
# Absolute links in emails sent by workers (no request to build them from).
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@portal.invalid")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user row: anonymous visitors get nothing

# --- Encryption of personal data at rest (privacy/crypto.py) ------------------------------------
# Keys come from PORTAL_ENCRYPTION_KEYS / PORTAL_ENCRYPTION_ACTIVE_KEY / PORTAL_BLIND_INDEX_KEY,
# never from SECRET_KEY. Without them, dev and test use (and on first use generate) a local
# key file; production refuses to start without the environment variables.
PORTAL_KEY_FILE = env_str("PORTAL_KEY_FILE", str(VAR_DIR / "keys.json"))
PORTAL_GENERATE_LOCAL_KEYS = False
# The key that signs audit checkpoints: PORTAL_AUDIT_SIGNING_KEY, or this file in dev/test.
PORTAL_AUDIT_KEY_FILE = env_str("PORTAL_AUDIT_KEY_FILE", str(VAR_DIR / "audit-signing.key"))
# Signed checkpoints of the audit chain: one every N events or M seconds (whichever comes
# first, checked by the sealer's task), exported as they are made to every exporter below.
# The default exporter writes one read-only file each into AUDIT_CHECKPOINT_DIR, which must be
# a folder the database role cannot write (docs/audit.md).
AUDIT_CHECKPOINT_EVERY_EVENTS = env_int("AUDIT_CHECKPOINT_EVERY_EVENTS", 1000)
AUDIT_CHECKPOINT_SECONDS = env_int("AUDIT_CHECKPOINT_SECONDS", 60)
AUDIT_CHECKPOINT_DIR = env_str("AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints"))
AUDIT_CHECKPOINT_EXPORTERS = env_list(
    "AUDIT_CHECKPOINT_EXPORTERS", "audit.checkpoints.export_to_directory"
)

# Open statistics (docs/open-data.md): counts below this threshold are withheld, with enough
# others that none can be worked out from the totals.
OPENDATA_SUPPRESSION_K = env_int("OPENDATA_SUPPRESSION_K", 10)
# Differentially private releases: the privacy-loss budget (epsilon) all of them may spend in
# total. Every release (exact or DP) names only the districts of the public list
# OPENDATA_DISTRICTS (any other value counts as "other or unknown").
OPENDATA_EPSILON_TOTAL = env_str("OPENDATA_EPSILON_TOTAL", "10")
try:
    if not Decimal(OPENDATA_EPSILON_TOTAL) >= 0:
        raise InvalidOperation
except InvalidOperation as exc:
    raise ImproperlyConfigured(
        f"OPENDATA_EPSILON_TOTAL must be a number of at least 0, not {OPENDATA_EPSILON_TOTAL!r}."
    ) from exc
OPENDATA_DISTRICTS = env_list("OPENDATA_DISTRICTS")
# Beat publishes the month that just ended on the first of each month (exact counts).
OPENDATA_PUBLISH_MONTHLY = env_bool("OPENDATA_PUBLISH_MONTHLY", False)

# --- Internationalisation ---------------------------------------------------------------------
# Simplified Chinese first: the city's language. A request's language is, in order, the
# person's explicit choice (the language cookie the switcher sets, else `User.language` of a
# signed-in person: core.middleware.UserLanguageMiddleware), their browser's Accept-Language,
# then LANGUAGE_CODE. The names are in their own language, as a language switcher shows them.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The catalogs (config/locale/zh_Hans/LC_MESSAGES/django.po and its compiled .mo, committed;
# `locale` at the repository root links here): docs/translation.md.
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# Dates and times as read in China (2026年12月2日 14:30): config/formats/zh_Hans/formats.py.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Uploads live outside the web root and are never served by URL; views stream them after a
# permission check.
MEDIA_ROOT = Path(env_str("PORTAL_MEDIA_ROOT", str(VAR_DIR / "private-media")))
# No URL route serves this prefix; it is set only because Django's tooling expects a string.
MEDIA_URL = "/_private-media-not-served/"

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated API call then gets 401 with WWW-Authenticate.
        "accounts.authentication.TokenWithRolesAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only; the upload endpoint takes multipart itself.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.BoundedJSONParser"],
    # Per user and per client address, counted in the cache (core/throttling.py); the
    # "address" scope is applied to every /api/ request by ApiAddressThrottleMiddleware.
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonAddressThrottle",
        "core.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
        "user": env_str("API_THROTTLE_USER", "600/min"),
        "address": env_str("API_THROTTLE_ADDRESS", "1800/min"),
    },
}
# --- Limits on input, checked before work (core/limits.py, core/parsers.py) -------------
# Request bodies: small for JSON API calls, larger only where files are uploaded, and Django's
# own limit (form fields) for every other page. A larger body is refused with 413 unread.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 512 * 1024)
UPLOAD_MAX_BODY_BYTES = env_int("UPLOAD_MAX_BODY_BYTES", 12 * 1024 * 1024)
UPLOAD_PATHS = [
    r"^/api/v1/applications/[^/]+/attachments/$",
    r"^/applications/[^/]+/form/",
    r"^/verify/$",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)
# A refused body is read and discarded up to this much, so the client gets the 413 instead of
# a connection reset; a body beyond it may still see the reset.
BODY_DRAIN_MAX_BYTES = env_int("BODY_DRAIN_MAX_BYTES", 32 * 1024 * 1024)
BODY_DRAIN_SECONDS = env_int("BODY_DRAIN_SECONDS", 10)
# JSON documents: checked by a scan of the text before json.loads builds anything.
JSON_MAX_DEPTH = 20
JSON_MAX_ITEMS = 10_000  # values in the whole document
JSON_MAX_CONTAINER_ITEMS = 1_000  # items of one list or members of one object
JSON_MAX_STRING_CHARS = 50_000  # one string, as written (escapes included)

SPECTACULAR_SETTINGS = {
    "TITLE": "Citizen portal API",
    "DESCRIPTION": "One application for a life event, routed to every department that must act.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No links inside the operations' toggle buttons (axe: nested interactive controls).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are validated whole (the fields they hold are required), as the views do.
    "COMPONENT_SPLIT_PATCH": False,
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventEnum": "integrations.constants.EventType",
        "WebhookSubscriptionStatusEnum": "integrations.constants.SubscriptionStatus",
        "WebhookDeliveryStatusEnum": "integrations.constants.DeliveryStatus",
    },
}

# --- Celery -----------------------------------------------------------------------------------
# Redis when REDIS_URL is set; otherwise kombu's filesystem transport, which needs no server
# and still runs a real worker and beat (the embedded default).
BROKER_DIR = Path(env_str("PORTAL_BROKER_DIR", str(VAR_DIR / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    if env_str("PORTAL_BROKER_KEYPREFIX", ""):
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("PORTAL_BROKER_KEYPREFIX")
else:
    # "filesystem://" is served by config.broker's transport with atomic writes (registered by
    # config/celery.py): kombu's own lets a worker read a message file before its body is
    # written, and the worker stops on the JSONDecodeError.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(BROKER_DIR)
    # No broadcast traffic on files: remote control (pidbox fanout), and with the Procfile's
    # --without-gossip/--without-mingle/--without-heartbeat no worker events either. Each was
    # a stream of small files written and read concurrently, and stale pidbox queues of old
    # workers kept receiving copies nobody consumed. Nothing in the portal uses them (/healthz
    # relies on beat's heartbeat task).
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes every database connection before and after each task unless this
# is set, so each task paid for a new PostgreSQL connection (most of a routing task's time in
# bench/README.md, routing). config/celery.py manages them as Django's request cycle does instead:
# reused up to CONN_MAX_AGE, closed when broken; the fixup's own close is only a backstop.
CELERY_DB_REUSE_MAX = 10_000
# Separate queues so workers can be scaled per kind of work (see docs/operations.md).
CELERY_TASK_QUEUES = [
    Queue("routing", Exchange("routing"), routing_key="routing"),
    Queue("notifications", Exchange("notifications"), routing_key="notifications"),
    Queue("maintenance", Exchange("maintenance"), routing_key="maintenance"),
]
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_TASK_DEFAULT_EXCHANGE = "maintenance"
CELERY_TASK_DEFAULT_ROUTING_KEY = "maintenance"
# Matched in order: a task's name decides its queue.
CELERY_TASK_ROUTES = {
    "*.tasks.maintenance_*": {"queue": "maintenance"},
    "*.tasks.notify_*": {"queue": "notifications"},
    "workflows.tasks.*": {"queue": "routing"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "workflows.tasks.maintenance_heartbeat",
        "schedule": env_int("HEARTBEAT_SECONDS", 15),
        "options": {"expires": 60},
    },
    "sweep-routing": {
        "task": "workflows.tasks.maintenance_sweep_routing",
        "schedule": env_int("ROUTING_SWEEP_SECONDS", 15),
        "options": {"expires": 60},
    },
    "seal-audit": {
        "task": "audit.tasks.maintenance_seal_audit",
        "schedule": env_int("AUDIT_SEAL_SECONDS", 5),
        "options": {"expires": 30},
    },
    "erase-expired": {
        "task": "services.tasks.maintenance_erase_expired",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 3600},
    },
    "sla-scan": {
        "task": "workflows.tasks.maintenance_sla_scan",
        "schedule": 60,
        "options": {"expires": 120},
    },
    # Ends the consultations past their end (already refused at read time) and those of
    # closed cases, removing the consultee's permission.
    "expire-consultations": {
        "task": "workflows.tasks.maintenance_expire_consultations",
        "schedule": env_int("CONSULTATION_EXPIRY_SECONDS", 300),
        "options": {"expires": 600},
    },
    # Does nothing unless OPENDATA_PUBLISH_MONTHLY is on (docs/open-data.md).
    "publish-open-data": {
        "task": "opendata.tasks.publish_previous_month",
        "schedule": crontab(day_of_month=1, hour=2, minute=30),
        "options": {"expires": 3600},
    },
    # Sends the webhooks due (a lost wake-up call, retries) and trims the delivery log.
    "dispatch-webhooks": {
        "task": "integrations.tasks.notify_webhooks",
        "schedule": env_int("WEBHOOK_DISPATCH_SECONDS", 5),
        "options": {"expires": 60},
    },
    "purge-webhook-log": {
        "task": "integrations.tasks.maintenance_purge_webhook_log",
        "schedule": crontab(hour=3, minute=47),
        "options": {"expires": 3600},
    },
    # Brings the dashboards' summary tables up to date from the cases changed since.
    "refresh-dashboards": {
        "task": "oversight.tasks.maintenance_refresh_dashboards",
        "schedule": env_int("DASHBOARD_REFRESH_SECONDS", 15),
        "options": {"expires": 60},
    },
}
# --- Backups (docs/operations.md, "Backups") ----------------------------------------------------
# Archives are written here (encrypted with PORTAL_BACKUP_KEY, never stored in them); keep the
# folder on another disk or copy it off the machine.
PORTAL_BACKUP_DIR = env_str("PORTAL_BACKUP_DIR", str(VAR_DIR / "backups"))
# The backup key of dev and test when PORTAL_BACKUP_KEY is not set (never used in prod).
PORTAL_BACKUP_KEY_FILE = env_str("PORTAL_BACKUP_KEY_FILE", str(VAR_DIR / "backup.key"))
# The folder of pg_dump and pg_restore (matching the server's major version); PATH when empty.
PORTAL_BACKUP_PG_BIN = env_str("PORTAL_BACKUP_PG_BIN", "")
# Retention: the newest N archives are kept (0 keeps every one).
BACKUP_KEEP = env_int("BACKUP_KEEP", 14)
# Values the drill opens with the live keys (applications and attachments each).
BACKUP_DRILL_SAMPLE = env_int("BACKUP_DRILL_SAMPLE", 50)
BACKUP_DRILL_TIMEOUT_SECONDS = env_int("BACKUP_DRILL_TIMEOUT_SECONDS", 6 * 3600)
# Beat's schedule, as crontab fields "minute hour day-of-month month day-of-week" in TIME_ZONE;
# empty turns it off.
BACKUP_CRONTAB = env_str("BACKUP_CRONTAB", "30 1 * * *")
BACKUP_DRILL_CRONTAB = env_str("BACKUP_DRILL_CRONTAB", "30 4 * * *")
for _name, _task, _spec in (
    ("backup", "backups.tasks.maintenance_backup", BACKUP_CRONTAB),
    ("restore-drill", "backups.tasks.maintenance_restore_drill", BACKUP_DRILL_CRONTAB),
):
    if _spec.strip():
        _fields = _spec.split()
        if len(_fields) != 5:
            raise ImproperlyConfigured(f"{_name}: a crontab needs 5 fields, not {_spec!r}.")
        CELERY_BEAT_SCHEDULE[_name] = {
            "task": _task,
            "schedule": crontab(
                minute=_fields[0],
                hour=_fields[1],
                day_of_month=_fields[2],
                month_of_year=_fields[3],
                day_of_week=_fields[4],
            ),
            "options": {"expires": 3600},
        }

# --- Workflow engine ------------------------------------------------------------------------
WORKFLOW_HOLIDAY_COUNTRY = env_str("WORKFLOW_HOLIDAY_COUNTRY", "CN")
WORKFLOW_HOLIDAY_SUBDIVISION = env_str("WORKFLOW_HOLIDAY_SUBDIVISION", "")
# The sweeper routes applications whose routing was requested this long ago and not done.
ROUTING_SWEEP_AFTER_SECONDS = env_int("ROUTING_SWEEP_AFTER_SECONDS", 30)
# A reminder goes out when a case is due within this many hours.
SLA_REMINDER_HOURS = env_int("SLA_REMINDER_HOURS", 24)
ROUTING_MAX_RETRIES = env_int("ROUTING_MAX_RETRIES", 5)
# A routing task routes up to this many waiting applications in one transaction (its own
# first); 1 routes each application in its own task and transaction.
ROUTING_BATCH_SIZE = max(1, env_int("ROUTING_BATCH_SIZE", 50))

# --- Webhooks to department systems (docs/integrations.md) ------------------------------------
# Plain http endpoints (development only; https otherwise).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
# Networks (CIDR) an endpoint may resolve to although private, loopback or link-local.
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
# Retries: base * 2^(attempt - 1) seconds with jitter, at most the maximum.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 10)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600)
# Failures in a row that make a subscription failing (and open an incident).
WEBHOOK_FAILING_AFTER = env_int("WEBHOOK_FAILING_AFTER", 5)
# Attempts after which a delivery is failed and waits for a replay.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 20)
# Delivered deliveries are kept in the log this many days.
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 30)
# Beat's sweep of due deliveries (each change also wakes a worker after its commit).
WEBHOOK_DISPATCH_SECONDS = env_int("WEBHOOK_DISPATCH_SECONDS", 5)
# During a rotation the previous secret stays valid (and signs too) this long by default.
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24)

# A worker whose last heartbeat is older than this is reported as down by /healthz.
HEARTBEAT_MAX_AGE_SECONDS = env_int("HEARTBEAT_MAX_AGE_SECONDS", 90)

# --- Security headers (tightened further in prod) -------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
# Behind a proxy, how many X-Forwarded-For hops to trust for the client IP in audit events.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# allauth reads its own setting wherever it does not go through the adapter; keep them equal.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# --- Logging: one JSON object per line, with the request id audit events reuse ------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "core.logging.RequestContextFilter"},
        "expected_errors": {"()": "core.logging.ExpectedErrorFilter"},
    },
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context"],
            "formatter": env_str("LOG_FORMAT", "json"),
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own handlers (a second console line under DEBUG, mail to ADMINS) are
        # dropped: everything goes through the root handler once.
        "django": {"propagate": True},
        # 403 and 404 are logged as one line each, without the traceback of the exception.
        "django.request": {"filters": ["expected_errors"]},
        "celery": {"level": LOG_LEVEL},
        # The webhooks' HTTP client logs a line per request at INFO; the delivery log keeps
        # each attempt's outcome instead (integrations.models.Delivery).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
