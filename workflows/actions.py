"""Writes of the workflow engine."""

from __future__ import annotations

import os
import socket

from django.utils import timezone

from .models import WorkerHeartbeat


def heartbeat_record(*, queue: str, hostname: str | None = None) -> WorkerHeartbeat:
    """Record that a worker consuming `queue` is alive. Operational data, not audited."""
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        queue=queue,
        defaults={
            "seen_at": timezone.now(),
            "hostname": hostname or socket.gethostname(),
            "pid": os.getpid(),
        },
    )
    return beat
