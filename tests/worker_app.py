"""The Celery app the tests' real worker runs (`celery -A tests.worker_app worker`): the
portal's own app, plus what a long-lived worker needs when the tests empty and refill the
database between tests. The production app knows nothing of it."""

from __future__ import annotations

from typing import Any

from celery.signals import task_prerun

from config.celery import app

__all__ = ["app"]


@task_prerun.connect
def _forget_content_types(**_: Any) -> None:
    # Transactional tests flush and recreate content types between tests: a worker that lives
    # across tests must not keep the ids of the ones it saw before.
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
