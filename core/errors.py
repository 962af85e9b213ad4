"""The portal's errors: the one hierarchy of refusals every layer raises, and the error pages
(JSON under /api/, in the design's error format; HTML elsewhere).

An action or a parser raises a `PortalError` subclass with a message a person can read (and,
for a form, the messages per field). The API's exception handler (`core.api`) answers it as
`{"errors": {...}}` or `{"detail": "..."}` with the error's status; pages show the message.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class PortalError(Exception):
    """A refused request; `message` is safe to show, `status` is the HTTP status to answer,
    `errors` the messages per field (a form's or a query's)."""

    status = 400

    def __init__(self, message: str = "", *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}

    def as_data(self) -> dict:
        """The API's body for this error."""
        return {"errors": self.errors} if self.errors else {"detail": self.message}


class InvalidInput(PortalError):
    """The input is not valid (400)."""

    status = 400


class InvalidQuery(InvalidInput):
    """A query parameter is not valid (400); `errors` names it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(_("The query is not valid."), errors=errors)


class WrongState(PortalError):
    """The object is not in a state that allows this (409)."""

    status = 409


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _error(request: HttpRequest, status: int, message: str, template: str) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": message}, status=status)
    return render(request, template, {"message": message, "status": status}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exception, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE: 413
        from core.limits import too_large

        return too_large(request)
    return _error(request, 400, _("The request could not be understood."), "errors/error.html")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, _("You do not have permission to do this."), "errors/error.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, _("Not found."), "errors/error.html")


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _("Something went wrong on our side.")}, status=500)
    # No context processors here: the failure may come from them.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)
