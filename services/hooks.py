"""What the layers above the catalog plug into it: the citizen side never imports the engine.

The workflow engine registers, when it is ready: the function that wakes the router after an
application is submitted or withdrawn; what must be erased with an application (its cases'
free text); where each department's part stands, for the application's page and API; and
where the application's receipt and decision letters are (the receipts app).
Without an engine (a deployment of the catalog alone) a submission is simply recorded: its
`routing_requested_at` waits for the sweeper.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Application

logger = logging.getLogger(__name__)

_router: Callable[[int], None] | None = None
_erasers: list[Callable[[Application], int]] = []
_parts: Callable[[Application], tuple[list, list]] | None = None
# (receipt address or None, {case reference: decision letter address}) of an application.
Documents = tuple[str | None, dict[str, str]]
_documents: Callable[[Application, list], Documents] | None = None


def set_router(wake: Callable[[int], None]) -> None:
    """`wake(application_id)` asks the engine to look at an application (after the commit)."""
    global _router
    _router = wake


def wake_router(application_id: int) -> None:
    if _router is None:
        logger.warning("no router registered; application %s waits for the sweeper", application_id)
        return
    _router(application_id)


def register_erasure(erase: Callable[[Application], int]) -> None:
    """`erase(application)` erases what a higher layer keeps of the application, in the
    erasure's transaction, and returns how many rows it changed."""
    if erase not in _erasers:
        _erasers.append(erase)


def erase_parts(application: Application) -> int:
    return sum(erase(application) for erase in _erasers)


def set_parts(parts: Callable[[Application], tuple[list, list]]) -> None:
    """`parts(application)` gives the departments' parts of a routed application and the
    questions waiting for the citizen, for the application's page and API."""
    global _parts
    _parts = parts


def parts_of(application: Application) -> tuple[list, list]:
    """(cases, open information requests) of an application; none before routing."""
    return _parts(application) if _parts is not None else ([], [])


def set_documents(documents: Callable[[Application, list], Documents]) -> None:
    """`documents(application, cases)` gives the address of the application's receipt (None
    while there is none, as for a draft) and of each decided case's letter, by case reference."""
    global _documents
    _documents = documents


def documents_of(application: Application, cases: list) -> Documents:
    """(receipt address or None, {case reference: decision letter address})."""
    return _documents(application, cases) if _documents is not None else (None, {})
