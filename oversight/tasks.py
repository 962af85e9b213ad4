"""Beat's task for the dashboards: bring the summary tables up to date (safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from . import actions


@shared_task(name="oversight.tasks.maintenance_refresh_dashboards", ignore_result=True)
def maintenance_refresh_dashboards() -> int:
    return actions.summaries_refresh()
