"""GET /healthz: database, broker and worker, for load balancers and operators."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from workflows.selectors import heartbeat_last_seen

logger = logging.getLogger(__name__)


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any failure means "down"; the reason goes to the log only
        logger.warning("healthz: database check failed: %s", exc)
        return {"ok": False, "vendor": connection.vendor}


def _check_broker() -> dict:
    transport = celery_app.conf.broker_url.split("://", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": transport}
    except Exception as exc:
        logger.warning("healthz: broker check failed: %s", exc)
        return {"ok": False, "transport": transport}


def _check_worker() -> dict:
    try:
        last = heartbeat_last_seen()
    except Exception:
        return {"ok": False, "last_seen": None}
    max_age = timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS)
    ok = last is not None and timezone.now() - last <= max_age
    return {"ok": ok, "last_seen": last.isoformat() if last else None}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers (status `ok` or `degraded`); 503 when it does not."""
    checks = {"database": _check_database(), "broker": _check_broker(), "worker": _check_worker()}
    if not checks["database"]["ok"]:
        status, code = "down", 503
    elif all(check["ok"] for check in checks.values()):
        status, code = "ok", 200
    else:
        status, code = "degraded", 200
    return JsonResponse({"status": status, **checks}, status=code)
