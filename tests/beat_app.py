"""The Celery app of the beat the tests start (`celery -A tests.beat_app beat`): the portal's own
app with only the entries of the settings' schedule that PORTAL_TEST_BEAT names (comma-separated).
The test settings schedule nothing, so no beat runs behind the suite's back; a test that needs
beat's sweep starts one for the entries it is about (the `live_beat` fixture). The production app
knows nothing of it."""

from __future__ import annotations

import os

from config.celery import app
from config.settings import base

__all__ = ["app"]

app.conf.beat_schedule = {
    name: base.CELERY_BEAT_SCHEDULE[name]
    for name in os.environ.get("PORTAL_TEST_BEAT", "").split(",")
    if name
}
