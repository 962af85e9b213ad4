"""The Celery app, configured from Django settings (CELERY_ namespace).

The request id of the web request that queued a task travels in the message headers, so the
worker's log lines and audit events carry the same id.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from . import broker

# The same default as the web server (config/wsgi.py, config/asgi.py): a worker or beat started
# without DJANGO_SETTINGS_MODULE runs on production settings, never on development ones.
# `config/__init__.py` imports this module first, so this line is also what config.wsgi gets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")
# The embedded default's broker: kombu's filesystem transport with atomic writes.
broker.register()

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def _attach_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    from core.context import current_context

    ctx = current_context()
    if headers is not None and ctx.request_id:
        headers.setdefault("portal_request_id", ctx.request_id)


@task_prerun.connect
def _restore_request_id(task: Any = None, **_: Any) -> None:
    from core.context import bind_context

    request_id = getattr(task.request, "portal_request_id", None) if task else None
    bind_context(request_id=request_id or None, ip=None, source="worker")
    _close_old_connections(task)


@task_postrun.connect
def _clear_request_id(task: Any = None, **_: Any) -> None:
    from core.context import clear_context

    clear_context()
    _close_old_connections(task)


def _close_old_connections(task: Any) -> None:
    """What Django does around each request: keep a connection for CONN_MAX_AGE, close it when
    it is broken or too old (CELERY_DB_REUSE_MAX stops the fixup from closing it every task).
    Not for eager tasks, which run inside the caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
