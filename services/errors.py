"""The refusals of the citizen side's actions: the portal's own (`core.errors`), under the
names this app's callers know them by. The API answers them in its exception handler; pages
show them through `core.pages`."""

from __future__ import annotations

from core.errors import InvalidInput, PortalError, WrongState

ServiceError = PortalError


class NotAllowed(PortalError):
    """The actor may see the application but not do this (a representative without the right):
    403."""

    status = 403


__all__ = ["InvalidInput", "NotAllowed", "ServiceError", "WrongState"]
