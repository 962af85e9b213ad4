"""Reads of the workflow engine."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max

from .models import WorkerHeartbeat


def heartbeat_last_seen() -> datetime | None:
    return WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
