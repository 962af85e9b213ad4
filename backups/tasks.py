"""Celery tasks of backups (beat schedules them: BACKUP_CRONTAB, BACKUP_DRILL_CRONTAB)."""

from __future__ import annotations

import logging

from celery import shared_task

from . import actions

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def maintenance_backup() -> str:
    """Write an archive and apply the retention policy; a failure opens an incident."""
    try:
        path, _manifest = actions.backup_create()
    except Exception as exc:
        logger.exception("scheduled backup failed")
        actions.backup_failed(error=f"{type(exc).__name__}: {exc}")
        return ""
    return str(path)


@shared_task(acks_late=True, ignore_result=True)
def maintenance_restore_drill() -> bool:
    """Restore the newest archive into a scratch database and check it; a failed drill
    opens an incident."""
    return actions.drill_run().ok
