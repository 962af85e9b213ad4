"""The Celery app of the worker the tests start (`celery -A tests.celery_app worker`): the
project's app, plus what only a test worker needs.

The tests empty the database between tests and content types come back with new ids; a worker
that lives through the whole run must not keep the old ids in Django's content-type cache, so
it is cleared before each task. Production never needs this (content types do not change
while a worker runs), so it is here and not in `config.celery`.
"""

from __future__ import annotations

from typing import Any

from celery.signals import task_prerun

from config.celery import app

__all__ = ["app"]


@task_prerun.connect
def _forget_content_types(**_: Any) -> None:
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
