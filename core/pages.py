"""The portal's refusals on pages: the one place they become what a person sees.

The API answers a `PortalError` in its exception handler (`core.api`). A page that runs an
action calls `attempt`: the action's success message, or its refusal as an error message
(with the per-field messages after it); a refusal of the actor (403) is the forbidden page.
Pages that re-show a form run the action through `outcome` (the refusal's messages per field,
for the page to show) or `attempt_in_form` (the messages put into a Django form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class Outcome:
    """What an action gave (`value`) or why it was refused (`errors` per field, "" for the
    whole form, and the refusal's HTTP `status`)."""

    value: Any = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    status: int = 200

    @property
    def done(self) -> bool:
        return not self.errors


def outcome(action: Callable[[], Any]) -> Outcome:
    """Run `action`; its value, or its refusal as messages per field (403: the forbidden page)."""
    try:
        return Outcome(value=action())
    except PortalError as exc:
        return Outcome(errors=form_errors(exc), status=exc.status)


def attempt_in_form(form: Any, action: Callable[[], Any]) -> Outcome:
    """`outcome`, with a refusal's messages added to `form`: next to their fields when the form
    has them (`form.add_refusal`, if it knows how to name its fields), above it otherwise."""
    result = outcome(action)
    add_refusal = getattr(form, "add_refusal", None)
    for key, messages_ in result.errors.items():
        for message in messages_:
            if add_refusal is not None:
                add_refusal(key, message)
            else:
                form.add_error(None, message)
    return result
