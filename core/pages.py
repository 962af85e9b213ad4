"""The portal's refusals on pages: the one place they become what a person sees.

The API answers a `PortalError` in its exception handler (`core.api`). A page that runs an
action calls `attempt`: the action's success message, or its refusal as an error message
(with the per-field messages after it); a refusal of the actor (403) is the forbidden page.
Pages that re-show a form put a refusal's field messages in the form instead (`form_errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .errors import PortalError


def refusal_text(exc: PortalError) -> str:
    """The message of a refusal followed by its per-field messages, as one sentence group."""
    details = " ".join(m for ms in exc.errors.values() for m in ms)
    return f"{exc.message} {details}".strip()


def attempt(request: HttpRequest, action: Callable[[], Any], *, success: str) -> bool:
    """Run `action`; show `success`, or why it was refused. True when it was done."""
    try:
        action()
    except PortalError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from exc
        messages.error(request, refusal_text(exc))
        return False
    messages.success(request, success)
    return True


def form_errors(exc: PortalError) -> dict[str, list[str]]:
    """A refusal as a form's errors: per field, or the message for the whole form (key "")."""
    if exc.status == 403:
        raise PermissionDenied(exc.message) from exc
    return exc.errors or {"": [exc.message]}
