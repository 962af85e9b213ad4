"""What happened to cases, for the layers above the engine (department systems' webhooks),
told inside the transaction of the change.

Routing writes cases with `bulk_create`/`bulk_update`, so model signals would miss most
changes: the engine calls `emit(event, cases)` where cases change instead, and a listener that a
higher layer registers in its `AppConfig.ready()` writes what it needs in the same transaction
(an outbox row commits or rolls back with the change). The engine imports nothing of them.

Events (the `type` of a webhook's payload):
- `case.opened`: a case was created by routing (in whatever state it starts: pending or open);
- `case.changed`: its status or assignee changed (claim, release, assign, an information
  request, routing opening it once its dependencies are decided);
- `case.information_answered`: the citizen answered the department's question;
- `application.withdrawn`: the citizen withdrew the application (told for each case it
  cancels, just before that case's `case.closed`);
- `case.closed`: approved, rejected or cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Case

CASE_OPENED = "case.opened"
CASE_CHANGED = "case.changed"
INFORMATION_ANSWERED = "case.information_answered"
APPLICATION_WITHDRAWN = "application.withdrawn"
CASE_CLOSED = "case.closed"

Listener = Callable[[str, list["Case"]], None]
_listeners: list[Listener] = []


def register(listener: Listener) -> None:
    """`listener(event, cases)` runs inside the change's transaction, once per `emit`."""
    if listener not in _listeners:
        _listeners.append(listener)


def emit(event: str, cases: Iterable[Case]) -> None:
    """Tell the listeners that `event` happened to `cases` (saved, in the caller's transaction,
    holding their locks). Without listeners this costs nothing."""
    if not _listeners:
        return
    cases = list(cases)
    if not cases:
        return
    for listener in _listeners:
        listener(event, cases)
