"""Run the routing task's body in this process, as a worker would, and stop inside its
transaction: the reliability test kills the process there.

    python -m tests.workflows.paused_routing APPLICATION_ID MARKER

The stop is injected here, not in the engine: `workflows.routing._record` (which writes the
audit events, after the cases, their grants and the application rows are written and before
the commit) is wrapped to write this process's id to MARKER and wait for the kill.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

# How long the process waits to be killed; the test kills it as soon as MARKER appears.
WAIT_SECONDS = 60


def main(application_id: int, marker: Path) -> None:
    import django

    django.setup()
    from workflows import routing
    from workflows.tasks import route_application

    record = routing._record

    def record_after_the_kill(events, *, woken):
        marker.write_text(str(os.getpid()))
        threading.Event().wait(WAIT_SECONDS)  # nothing sets it: only the kill ends the wait
        record(events, woken=woken)

    routing._record = record_after_the_kill
    route_application.apply(args=[application_id])


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
